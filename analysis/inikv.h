/* inikv: the key = value pairs of a scenario text (the resolved scenario.ini a run's
 * lineage header carries), for the analysis, which does not link the simulator's parser.
 *
 * Comments (';' or '#' to the end of the line) and blank lines are skipped; a key is
 * named "section.key" ("species.NAME.key" in a [species.NAME] section); whitespace around
 * names and values is trimmed. Lines longer than QS_INIKV_LINE are cut there. */
#ifndef QS_INIKV_H
#define QS_INIKV_H

#define QS_INIKV_LINE 512

/* Call fn for every key in text order; key is "section.key", both strings last only for
 * the call. */
void qs_inikv_each(const char *text, void (*fn)(const char *key, const char *value, void *ctx),
                   void *ctx);

#endif
