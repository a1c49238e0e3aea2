/* test_redis_ha.c: the judgements failover handling rests on: what ROLE
 * says, which errors mean "not the master", and whether the log rolled
 * back under a reconnected reader. */
#include "unit.h"

#include "log_check.h"
#include "redis_node.h"

#include <string.h>

/* A reply of type t holding str (for strings, statuses and errors). */
static redisReply
text_reply(int t, const char *str)
{
	redisReply r = {.type = t, .str = (char *)str, .len = strlen(str)};

	return r;
}

static void
test_role(void **state)
{
	redisReply master = text_reply(REDIS_REPLY_STRING, "master");
	redisReply slave = text_reply(REDIS_REPLY_STRING, "slave");
	redisReply offset = {.type = REDIS_REPLY_INTEGER, .integer = 42};
	redisReply rep1 = {.type = REDIS_REPLY_ARRAY}, rep2 = rep1;
	redisReply *reps[] = {&rep1, &rep2};
	redisReply list = {
	    .type = REDIS_REPLY_ARRAY, .elements = 2, .element = reps};
	redisReply none = {.type = REDIS_REPLY_ARRAY};
	redisReply *m[] = {&master, &offset, &list};
	redisReply *m0[] = {&master, &offset, &none};
	redisReply *s[] = {&slave};
	redisReply as_master = {
	    .type = REDIS_REPLY_ARRAY, .elements = 3, .element = m};
	redisReply alone = {
	    .type = REDIS_REPLY_ARRAY, .elements = 3, .element = m0};
	redisReply as_slave = {
	    .type = REDIS_REPLY_ARRAY, .elements = 1, .element = s};
	redisReply noperm = text_reply(REDIS_REPLY_ERROR, "NOPERM no");
	int replicas = -1;

	(void)state;
	assert_int_equal(redis_role(&as_master, &replicas), 1);
	assert_int_equal(replicas, 2);
	assert_int_equal(redis_role(&alone, &replicas), 1);
	assert_int_equal(replicas, 0);
	assert_int_equal(redis_role(&as_slave, &replicas), 0);
	assert_int_equal(redis_role(&noperm, &replicas), -1);
	assert_int_equal(redis_role(NULL, &replicas), -1);
}

static void
test_moved_errors(void **state)
{
	static const char *const moved[] = {
	    "READONLY You can't write against a read only replica.",
	    "NOREPLICAS Not enough good replicas to write.",
	    "LOADING Redis is loading the dataset in memory",
	    "MASTERDOWN Link with MASTER is down",
	    "MOVED 12547 127.0.0.1:7002",
	    "ASK 12547 127.0.0.1:7002",
	    "CLUSTERDOWN The cluster is down",
	    "TRYAGAIN Multiple keys request during rehashing of slot",
	    "READONLY"};
	static const char *const other[] = {
	    "ERR tickerd_record: payload must be 1-262144 bytes",
	    "ERR Function not found",
	    "WRONGTYPE Operation against a key holding the wrong kind",
	    "READONLYX",
	    "ASKING",
	    "NOAUTH Authentication required.",
	    ""};

	(void)state;
	for (size_t i = 0; i < sizeof(moved) / sizeof(moved[0]); i++)
		if (!redis_error_moved(moved[i]))
			fail_msg("\"%s\" should mean not the master", moved[i]);
	for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++)
		if (redis_error_moved(other[i]))
			fail_msg("\"%s\" should not mean not the master",
			         other[i]);
}

#define ID(ms, n) ((struct seq){(ms), (n)})

/* Each case: what the reader finds, and what it means for a reader that
 * last read entry 1000-0 numbered 7. */
static void
test_log_judge(void **state)
{
	static const struct {
		const char *what;
		struct log_check c;
		enum log_verdict v;
	} cases[] = {
	    {"all there",
	     {1, 1, 7, 1, 1, ID(500, 0), ID(2000, 0)},
	     LOG_GOES_ON},
	    {"there, written without the function (no number)",
	     {1, 1, 0, 1, 1, ID(500, 0), ID(1000, 0)},
	     LOG_GOES_ON},
	    {"another entry at its id (a reused number)",
	     {1, 1, 5, 1, 1, ID(500, 0), ID(1000, 0)},
	     LOG_ROLLED_BACK},
	    {"the log ends before it",
	     {1, 0, 0, 1, 1, ID(500, 0), ID(900, 3)},
	     LOG_ROLLED_BACK},
	    {"the log is empty",
	     {1, 0, 0, 0, 0, ID(0, 0), ID(0, 0)},
	     LOG_ROLLED_BACK},
	    {"missing inside the log (lost, then more written)",
	     {1, 0, 0, 1, 1, ID(500, 0), ID(3000, 0)},
	     LOG_ROLLED_BACK},
	    {"the log begins after it (trimmed)",
	     {1, 0, 0, 1, 1, ID(1500, 0), ID(3000, 0)},
	     LOG_TRIMMED},
	    {"another epoch (Redis lost its data)",
	     {0, 0, 0, 0, 0, ID(0, 0), ID(0, 0)},
	     LOG_NEW_DATASET},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum log_verdict v = log_judge(&cases[i].c, ID(1000, 0), 7);

		if (v != cases[i].v)
			fail_msg("%s: %s, not %s", cases[i].what,
			         log_verdict_name(v),
			         log_verdict_name(cases[i].v));
	}
	/* Unknown number (entries written by XADD): presence is enough. */
	assert_int_equal(log_judge(&cases[2].c, ID(1000, 0), 0), LOG_GOES_ON);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_role),
	    cmocka_unit_test(test_moved_errors),
	    cmocka_unit_test(test_log_judge),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
