#include "postgres.h"
#include "fmgr.h"

#include <signal.h>

PG_MODULE_MAGIC;

PG_FUNCTION_INFO_V1(crash_now);

/* Kills the calling backend with SIGSEGV, as a bad pointer would. */
Datum
crash_now(PG_FUNCTION_ARGS)
{
	raise(SIGSEGV);
	PG_RETURN_VOID();
}
