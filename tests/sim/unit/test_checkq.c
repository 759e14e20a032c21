/*
 * test_checkq.c: the checker thread's ring (checkq.h): every op pushed is checked, in order,
 * after checkq_finish(), and nothing the producer handed over is read after it changed.
 *
 * The producer's buffers are overwritten right after each push, as the event loop's stack and
 * read buffers are: a ring that kept pointers instead of copies would check garbage (it once did
 * for the text of a malformed reply, which reached results.json as invalid UTF-8).
 * Depends on: checkq, check, json, unitkit.h.
 */
#include "unitkit.h"
#include "check.h"
#include "checkq.h"

#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>

TestSuite(checkq, .timeout = 120);

Test(checkq, copies_what_the_producer_hands_over)
{
    struct check c;
    check_init(&c, WORKLOAD_UNIQUE_IDS, 10);
    struct checkq *q = checkq_new(&c);
    enum { OPS = 3 * CHECKQ_WAKE_BATCH + 7 };
    for (int i = 0; i < OPS; i++) {
        char text[64], why[128];
        snprintf(text, sizeof(text),
                 "\"id-%d-with-a-long-tail-to-pass-the-inline-limit-of-the-ring\"",
                 i % 2 ? i : i / 2);
        snprintf(why, sizeof(why), "reply %d has a disallowed key", i);
        struct json_val v = scan(text);
        bool bad = i == 5;
        check_invoke(&c);
        checkq_push(q, &(struct check_op){.type = bad ? OP_INFO : OP_OK,
                                          .f = F_GENERATE,
                                          .invoke_ns = i,
                                          .complete_ns = i + 1,
                                          .index = (uint64_t)i,
                                          .ref = (uint64_t)i,
                                          .value = bad ? NULL : &v,
                                          .exception = bad ? "malformed-rpc-response" : NULL,
                                          .exception_text = bad ? why : NULL});
        memset(text, 'x', sizeof(text));
        memset(why, 0, sizeof(why));
    }
    checkq_finish(q);
    cr_assert_eq(c.exception_kinds, 1u);
    cr_assert_str_eq(c.exceptions[0].example, "reply 5 has a disallowed key");
    cr_assert_str_eq(c.exceptions[0].name, "malformed-rpc-response");
    /* Odd ops carry ID i, even ops ID i / 2: an even op repeats the ID of the odd op i / 2 when
     * that is odd and was ok (op 5 was not). Nothing else repeats. */
    uint64_t dups = 0;
    for (int i = 0; i < OPS; i += 2)
        dups += i / 2 % 2 == 1 && i / 2 != 5;
    cr_assert_eq(c.dup_ids, dups, "duplicated IDs counted %llu, want %llu",
                 (unsigned long long)c.dup_ids, (unsigned long long)dups);
    cr_assert_eq(c.dup_extra, dups);
    check_fini(&c);
    ASSERT_NO_LEAKS();
}
