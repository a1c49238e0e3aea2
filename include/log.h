/* log.h: one-line log events through lws's logger, prefixed with __func__. */
#ifndef TICKERD_LOG_H
#define TICKERD_LOG_H

#include <libwebsockets.h>

/*
 * lws compiles lwsl_info()/lwsl_debug() out of release builds (Debian's), so
 * these call _lws_log() directly: the --log-level bitmask decides what shows.
 */
#define log_err(fmt, ...)                                                      \
	_lws_log(LLL_ERR, "%s: " fmt "\n", __func__, ##__VA_ARGS__)
#define log_warn(fmt, ...)                                                     \
	_lws_log(LLL_WARN, "%s: " fmt "\n", __func__, ##__VA_ARGS__)
#define log_notice(fmt, ...)                                                   \
	_lws_log(LLL_NOTICE, "%s: " fmt "\n", __func__, ##__VA_ARGS__)
#define log_info(fmt, ...)                                                     \
	_lws_log(LLL_INFO, "%s: " fmt "\n", __func__, ##__VA_ARGS__)
#define log_debug(fmt, ...)                                                    \
	_lws_log(LLL_DEBUG, "%s: " fmt "\n", __func__, ##__VA_ARGS__)

#endif
