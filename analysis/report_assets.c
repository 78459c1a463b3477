/* report_assets: the HTML report's script and style (analysis/report/page.js, page.css)
 * and the vendored uPlot (analysis/report/uPlot.*, see analysis/report/SHA256SUMS), built
 * into the program with the assembler's .incbin, so that `analyze --html` needs no file
 * at run time. Each is NUL-terminated. The Makefile rebuilds this file when they change. */

#define QS_ASSET(sym, file)                                                                        \
    __asm__(".section .rodata\n.global " #sym "\n.type " #sym ", @object\n.balign 16\n" #sym       \
            ":\n.incbin \"" file "\"\n.byte 0\n.previous\n")

QS_ASSET(qs_report_asset_uplot_js, "analysis/report/uPlot.iife.min.js");
QS_ASSET(qs_report_asset_uplot_css, "analysis/report/uPlot.min.css");
QS_ASSET(qs_report_asset_page_js, "analysis/report/page.js");
QS_ASSET(qs_report_asset_page_css, "analysis/report/page.css");
