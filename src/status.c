#include "status.h"

const char *ms_status_message(int status) {
    switch (status) {
    case MS_OK: return "success";
    case MS_ERR_NOMEM: return "out of memory";
    case MS_ERR_NUMERIC: return "non-finite log density (numerical failure)";
    case MS_INTERRUPTED: return "interrupted";
    case MS_ERR_UNSUPPORTED: return "a model kind this build does not implement";
    default: return "unknown failure";
    }
}
