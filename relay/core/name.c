#include "core/name.h"

static bool alnum(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool mr_name_valid(const char *s, size_t len)
{
    if (!s || len == 0 || len > MR_NAME_MAX)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!alnum(s[i]) && s[i] != '_' && s[i] != '-')
            return false;
    return true;
}

bool mr_sub_valid(const char *s, size_t len)
{
    if (!s || len == 0 || len > MR_SUB_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!alnum(c) && c != '.' && c != '_' && c != '@' && c != ':' && c != '+' && c != '-')
            return false;
    }
    return true;
}
