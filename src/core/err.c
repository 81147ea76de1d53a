/*
 * src/core/err.c - ptio_strerror and ptio_err_name, generated from the
 * single list in ptio/err.h.
 */
#include <ptio/err.h>

#define PTIO_ERRNO_TEXT_(name, ename, value, text) \
	case PTIO_##name:                          \
		return text;
#define PTIO_OWN_TEXT_(name, value, text) \
	case PTIO_##name:                 \
		return text;

const char *ptio_strerror(ptio_ssize code)
{
	if (code >= 0)
		return "success";
	switch (code) {
	case PTIO_PENDING:
		return "operation pending";
	case PTIO_WOULD_BLOCK:
		return "operation would block";
	PTIO_ERRNO_MAP(PTIO_ERRNO_TEXT_)
	PTIO_OWN_ERR_MAP(PTIO_OWN_TEXT_)
	default:
		return "unknown error";
	}
}

#define PTIO_ERRNO_NAME_(name, ename, value, text) \
	case PTIO_##name:                          \
		return "PTIO_" #name;
#define PTIO_OWN_NAME_(name, value, text) \
	case PTIO_##name:                 \
		return "PTIO_" #name;

const char *ptio_err_name(ptio_ssize code)
{
	switch (code) {
	case PTIO_PENDING:
		return "PTIO_PENDING";
	case PTIO_WOULD_BLOCK:
		return "PTIO_WOULD_BLOCK";
	PTIO_ERRNO_MAP(PTIO_ERRNO_NAME_)
	PTIO_OWN_ERR_MAP(PTIO_OWN_NAME_)
	default:
		return NULL;
	}
}
