#include "core/error.h"

const char *mr_strerror(int err)
{
    switch (err) {
#define MR_ERR_TEXT(name, value, text) \
    case value:                        \
        return text;
        MR_ERRORS(MR_ERR_TEXT)
#undef MR_ERR_TEXT
    }
    return "unknown error";
}

const char *mr_errname(int err)
{
    switch (err) {
#define MR_ERR_NAME(name, value, text) \
    case value:                        \
        return #name;
        MR_ERRORS(MR_ERR_NAME)
#undef MR_ERR_NAME
    }
    return "MR_E?";
}
