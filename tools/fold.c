/* fold.c - which frames are part of the allocation (folded into it) and
 * how a --wrapper pattern matches a demangled function name.
 *
 * A demangled C++ name carries more than the function: a return type for
 * templates ("std::__allocated_ptr<...> std::__allocate_guarded<...>(...)"),
 * parameter lists, cv-qualifiers, clone suffixes.  A pattern names the
 * function, so each name is matched in three forms: as it is, as its
 * qualified name (return type, parameters and qualifiers gone, template
 * arguments kept: "std::vector<long>::_M_realloc_insert<long>") and as its
 * plain name (template arguments gone too: "std::vector::_M_realloc_insert").
 * The scanner keeps track of <> () [] {} nesting, so spaces inside template
 * arguments, "(anonymous namespace)" or "{lambda(int)#1}" never split the
 * name, and it stops at an "operator" token, whose symbols (operator<,
 * operator()) and words (operator new[], conversion operators) belong to
 * the name.
 */
#include <ctype.h>
#include <fnmatch.h>
#include <string.h>

#include "fold.h"

/* Allocation functions and the libraries' allocation plumbing: the first
 * frame outside them is the call site.  The C++ entries fold whole class
 * templates whose members only ever allocate on the user's behalf
 * (containers, shared_ptr control blocks), so a push_back, insert or
 * make_shared is charged to the user's line. */
static const char *const default_wrappers[] = {
    /* C */
    "malloc", "calloc", "realloc", "free", "reallocarray", "posix_memalign",
    "aligned_alloc", "memalign", "valloc", "pvalloc", "strdup", "strndup",
    "__strdup", "__strndup", "__libc_*", "asprintf", "vasprintf",
    "__vasprintf_internal", "__asprintf", "open_memstream", "getline", "getdelim",
    "__getdelim",
    /* operator new and the allocators */
    "operator new*", "std::allocator*", "__gnu_cxx::new_allocator*",
    "std::__new_allocator*", "std::allocator_traits*", "__gnu_cxx::__aligned_membuf*",
    "__gnu_cxx::__alloc_traits*",
    /* shared_ptr construction */
    "std::make_shared", "std::allocate_shared", "std::__make_shared",
    "std::__allocate_shared", "std::__allocate_guarded", "std::__allocated_ptr*",
    "std::shared_ptr::shared_ptr", "std::__shared_ptr::*", "std::__shared_count::*",
    "std::_Sp_*", "std::make_unique", "std::make_unique_for_overwrite",
    /* containers and strings */
    "std::vector::*", "std::_Vector_base::*", "std::__cxx11::basic_string::*",
    "std::basic_string::*", "std::_Rb_tree::*", "std::map::*", "std::multimap::*",
    "std::set::*", "std::multiset::*", "std::_Hashtable::*", "std::__detail::_*",
    "std::unordered_map::*", "std::unordered_multimap::*", "std::unordered_set::*",
    "std::unordered_multiset::*", "std::deque::*", "std::_Deque_base::*",
    "std::__cxx11::list::*", "std::list::*", "std::__cxx11::_List_base::*",
    "std::_List_base::*", "std::forward_list::*", "std::_Fwd_list_base::*",
};

static int ident_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '$';
}

/* Is "operator" a token at s[i]? */
static int operator_at(const char *s, size_t i)
{
    return strncmp(s + i, "operator", 8) == 0 && (i == 0 || !ident_char(s[i - 1])) &&
           !ident_char(s[i + 8]);
}

/* Index of the "(" opening the group that ends at s[close] (a ")"), or
 * -1. */
static long open_paren(const char *s, long close)
{
    int depth = 0;
    for (long i = close; i >= 0; i--) {
        if (s[i] == ')')
            depth++;
        else if (s[i] == '(' && --depth == 0)
            return i;
    }
    return -1;
}

/* Drop trailing " [clone .cold]", " const", " &" and the like. */
static size_t strip_suffixes(const char *s, size_t n)
{
    static const char *const tails[] = {" const", " volatile", " &&", " &", " noexcept"};
    for (;;) {
        while (n > 0 && s[n - 1] == ' ')
            n--;
        if (n > 0 && s[n - 1] == ']') {
            const char *clone = NULL;
            for (const char *p = strstr(s, " [clone "); p && p < s + n; p = strstr(p + 1, " [clone "))
                clone = p;
            if (clone) {
                n = (size_t)(clone - s);
                continue;
            }
        }
        size_t k = 0;
        for (; k < sizeof tails / sizeof *tails; k++) {
            size_t t = strlen(tails[k]);
            if (n > t && strncmp(s + n - t, tails[k], t) == 0) {
                n -= t;
                break;
            }
        }
        if (k == sizeof tails / sizeof *tails)
            return n;
    }
}

/* [*start, *start + *len) of the function's qualified name in s[0, n). */
static void qualified_span(const char *s, size_t n, size_t *start, size_t *len)
{
    for (int guard = 0; guard < 8; guard++) {
        n = strip_suffixes(s, n);
        /* The parameter list: the last top-level (...), unless the name is
         * "operator()" itself. */
        if (n > 0 && s[n - 1] == ')' && !(n >= 10 && strncmp(s + n - 10, "operator()", 10) == 0 &&
                                          open_paren(s, (long)n - 1) == (long)n - 2)) {
            long open = open_paren(s, (long)n - 1);
            if (open > 0) {
                size_t before = strip_suffixes(s, (size_t)open);
                /* A function returning a function pointer:
                 * "void (*signal(int, void (*)(int)))(int)": the name is
                 * inside the group before the parameters. */
                if (before > 0 && s[before - 1] == ')') {
                    long inner = open_paren(s, (long)before - 1);
                    if (inner >= 0 && (s[inner + 1] == '*' || s[inner + 1] == '&')) {
                        size_t from = (size_t)inner + 1;
                        while (s[from] == '*' || s[from] == '&' || s[from] == ' ')
                            from++;
                        size_t sub_start, sub_len;
                        qualified_span(s + from, before - 1 - from, &sub_start, &sub_len);
                        *start = from + sub_start;
                        *len = sub_len;
                        return;
                    }
                }
                n = before;
            }
        }
        break;
    }
    /* The return type ends at the last top-level space before the name;
     * an operator's own spaces and symbols are part of the name. */
    int depth = 0;
    size_t name_from = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (depth == 0 && operator_at(s, i))
            break;
        if (c == '<' || c == '(' || c == '[' || c == '{')
            depth++;
        else if ((c == '>' || c == ')' || c == ']' || c == '}') && depth > 0)
            depth--;
        else if (c == ' ' && depth == 0)
            name_from = i + 1;
    }
    *start = name_from;
    *len = n - name_from;
}

size_t sa_fold_qualified(const char *function, char *buf, size_t len)
{
    size_t start, n;
    qualified_span(function, strlen(function), &start, &n);
    if (len == 0)
        return 0;
    if (n >= len)
        n = len - 1;
    memcpy(buf, function + start, n);
    buf[n] = '\0';
    return n;
}

size_t sa_fold_plain(const char *function, char *buf, size_t len)
{
    char q[4096];
    size_t n = sa_fold_qualified(function, q, sizeof q), out = 0;
    int depth = 0;
    if (len == 0)
        return 0;
    for (size_t i = 0; i < n && out + 1 < len; i++) {
        if (depth == 0 && operator_at(q, i)) {
            /* The operator's symbols stay; its template arguments, if any,
             * are not worth the ambiguity of "operator<<<int>". */
            size_t k = n - i < len - 1 - out ? n - i : len - 1 - out;
            memcpy(buf + out, q + i, k);
            out += k;
            break;
        }
        if (q[i] == '<')
            depth++;
        else if (q[i] == '>' && depth > 0)
            depth--;
        else if (depth == 0)
            buf[out++] = q[i];
    }
    buf[out] = '\0';
    return out;
}

void sa_fold_forms_init(sa_fold_forms *f, const char *function)
{
    /* glibc's internal aliases: __GI_malloc is malloc. */
    if (strncmp(function, "__GI_", 5) == 0)
        function += 5;
    f->name = function;
    sa_fold_qualified(function, f->qualified, sizeof f->qualified);
    sa_fold_plain(function, f->plain, sizeof f->plain);
}

int sa_fold_match_forms(const char *pattern, const sa_fold_forms *f)
{
    return fnmatch(pattern, f->name, 0) == 0 || fnmatch(pattern, f->qualified, 0) == 0 ||
           fnmatch(pattern, f->plain, 0) == 0;
}

int sa_fold_match(const char *pattern, const char *function)
{
    sa_fold_forms f;
    sa_fold_forms_init(&f, function);
    return sa_fold_match_forms(pattern, &f);
}

/* Not against the name as it is: "std::allocator<int> get_alloc()" is the
 * user's function, whatever its return type. */
int sa_fold_default_forms(const sa_fold_forms *f)
{
    for (size_t i = 0; i < sizeof default_wrappers / sizeof *default_wrappers; i++)
        if (fnmatch(default_wrappers[i], f->qualified, 0) == 0 ||
            fnmatch(default_wrappers[i], f->plain, 0) == 0)
            return 1;
    return 0;
}
