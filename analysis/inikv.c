/* inikv: walking the key = value pairs of a scenario text. */
#include "analysis/inikv.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

void qs_inikv_each(const char *text, void (*fn)(const char *key, const char *value, void *ctx),
                   void *ctx)
{
    char section[QS_INIKV_LINE] = "";
    const char *p = text;
    while (p && *p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        char line[QS_INIKV_LINE];
        snprintf(line, sizeof line, "%.*s", (int)(n < sizeof line ? n : sizeof line - 1), p);
        p = nl ? nl + 1 : NULL;
        char *c = strpbrk(line, ";#");
        if (c)
            *c = '\0';
        char *t = trim(line);
        if (*t == '[') {
            char *close = strchr(t, ']');
            if (close)
                *close = '\0';
            snprintf(section, sizeof section, "%s", trim(t + 1));
            continue;
        }
        char *eq = strchr(t, '=');
        if (!eq)
            continue;
        *eq = '\0';
        char key[2 * QS_INIKV_LINE + 2];
        snprintf(key, sizeof key, "%s.%s", section, trim(t));
        fn(key, trim(eq + 1), ctx);
    }
}
