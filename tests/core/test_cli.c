/* Tests for core/cli: option numbers taken whole and in range, and getopt_long's
 * errors worded as the user typed the option (unknown long or short, a short one inside
 * a bundle, a missing value, a value given to a flag). */
#include <criterion/criterion.h>
#include <getopt.h>
#include <string.h>

#include "core/cli.h"

/* Parse argv (NULL-terminated, argv[0] the command) with the options "--flag", "--val
 * V", "-f" and "-v V" as a command does; the message of the first error, or "" if none. */
static const char *first_error(char **argv, char *msg, size_t cap)
{
    static const struct option opts[] = {
        {"flag", no_argument, 0, 'f'}, {"val", required_argument, 0, 'v'}, {0, 0, 0, 0}};
    int argc = 0, c;
    while (argv[argc])
        argc++;
    qs_error_t err = {0, ""};
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":fv:", opts, NULL)) != -1)
        if (c != 'f' && c != 'v') {
            cr_assert_eq(qs_cli_opt_error(c, argc, argv, &err), QS_ERR(INVAL));
            break;
        }
    snprintf(msg, cap, "%s", err.msg);
    return msg;
}

Test(cli, opt_error_names_the_option)
{
    char m[256];
    cr_assert_str_eq(first_error((char *[]){"x", "--flag", "--val", "3", NULL}, m, sizeof m), "");
    cr_assert_str_eq(first_error((char *[]){"x", "--bogus", NULL}, m, sizeof m),
                     "unknown option '--bogus'");
    cr_assert_str_eq(first_error((char *[]){"x", "--bogus=1", NULL}, m, sizeof m),
                     "unknown option '--bogus'");
    cr_assert_str_eq(first_error((char *[]){"x", "-z", NULL}, m, sizeof m), "unknown option '-z'");
    cr_assert_str_eq(first_error((char *[]){"x", "-fz", NULL}, m, sizeof m), "unknown option '-z'");
    cr_assert_str_eq(first_error((char *[]){"x", "--val", NULL}, m, sizeof m),
                     "--val needs a value");
    cr_assert_str_eq(first_error((char *[]){"x", "-v", NULL}, m, sizeof m), "-v needs a value");
    cr_assert_str_eq(first_error((char *[]){"x", "--flag=2", NULL}, m, sizeof m),
                     "--flag takes no value");
}

Test(cli, numbers_whole_and_in_range)
{
    qs_error_t err = {0, ""};
    uint64_t u = 0;
    double d = 0;
    cr_assert_eq(qs_parse_u64("--n", "42", 1, 100, &u, &err), 0);
    cr_assert_eq(u, 42);
    cr_assert_eq(qs_parse_u64("--n", "42x", 1, 100, &u, &err), QS_ERR(INVAL));
    cr_assert_str_eq(err.msg, "--n: '42x' is not an integer in 1..100");
    cr_assert_eq(qs_parse_u64("--n", "-1", 0, 100, &u, &err), QS_ERR(INVAL));
    cr_assert_eq(qs_parse_u64("--n", "", 0, 100, &u, &err), QS_ERR(INVAL));
    cr_assert_eq(qs_parse_u64("--n", "101", 0, 100, &u, &err), QS_ERR(INVAL));
    cr_assert_eq(qs_parse_double("--x", "0.25", 0, 1, &d, &err), 0);
    cr_assert_float_eq(d, 0.25, 0);
    cr_assert_eq(qs_parse_double("--x", "nan", 0, 1, &d, &err), QS_ERR(INVAL));
    cr_assert_eq(qs_parse_double("--x", "1.5", 0, 1, &d, &err), QS_ERR(INVAL));
    cr_assert_str_eq(err.msg, "--x: '1.5' is not a number in [0, 1]");
}
