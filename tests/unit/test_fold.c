/* test_fold.c - the name matcher of allocation folding (tools/fold.c):
 * qualified and plain names of demangled C++ functions (return types,
 * nested templates, operators, anonymous namespaces, lambdas, function
 * pointers), --wrapper matching, and the default list's answers for the
 * libstdc++ plumbing and for user functions. */
#include <criterion/criterion.h>
#include <string.h>

#include "fold.h"

static void expect_forms(const char *name, const char *qualified, const char *plain)
{
    char buf[2048];
    sa_fold_qualified(name, buf, sizeof buf);
    cr_expect_str_eq(buf, qualified, "qualified(%s)", name);
    sa_fold_plain(name, buf, sizeof buf);
    cr_expect_str_eq(buf, plain, "plain(%s)", name);
}

Test(fold, c_names_unchanged)
{
    expect_forms("malloc", "malloc", "malloc");
    expect_forms("build_cache", "build_cache", "build_cache");
}

Test(fold, return_type_and_templates)
{
    expect_forms("std::__allocated_ptr<std::allocator<std::_Sp_counted_ptr_inplace<Foo, "
                 "std::allocator<Foo>, (__gnu_cxx::_Lock_policy)2> > > "
                 "std::__allocate_guarded<std::allocator<std::_Sp_counted_ptr_inplace<Foo, "
                 "std::allocator<Foo>, (__gnu_cxx::_Lock_policy)2> > >(std::allocator<"
                 "std::_Sp_counted_ptr_inplace<Foo, std::allocator<Foo>, "
                 "(__gnu_cxx::_Lock_policy)2> >&)",
                 "std::__allocate_guarded<std::allocator<std::_Sp_counted_ptr_inplace<Foo, "
                 "std::allocator<Foo>, (__gnu_cxx::_Lock_policy)2> > >",
                 "std::__allocate_guarded");
    expect_forms("void std::vector<long, std::allocator<long> >::_M_realloc_insert<long>("
                 "__gnu_cxx::__normal_iterator<long*, std::vector<long, std::allocator<long> > >, "
                 "long&&)",
                 "std::vector<long, std::allocator<long> >::_M_realloc_insert<long>",
                 "std::vector::_M_realloc_insert");
    expect_forms("unsigned long count<unsigned long>(int)", "count<unsigned long>", "count");
    expect_forms("char* ns::dup(char const*)", "ns::dup", "ns::dup");
}

Test(fold, qualifiers_and_clones)
{
    expect_forms("Foo::size() const", "Foo::size", "Foo::size");
    expect_forms("Foo::get() const &&", "Foo::get", "Foo::get");
    expect_forms("grow(int) [clone .cold]", "grow", "grow");
    expect_forms("grow(int) [clone .isra.0] [clone .cold]", "grow", "grow");
}

Test(fold, operators)
{
    expect_forms("operator new(unsigned long)", "operator new", "operator new");
    expect_forms("operator new[](unsigned long, std::nothrow_t const&)", "operator new[]",
                 "operator new[]");
    expect_forms("std::less<int>::operator()(int const&, int const&) const",
                 "std::less<int>::operator()", "std::less::operator()");
    expect_forms("bool operator< <int>(Box<int> const&, Box<int> const&)", "operator< <int>",
                 "operator< <int>");
    expect_forms("std::ostream& operator<<(std::ostream&, Foo const&)", "operator<<",
                 "operator<<");
    expect_forms("Foo::operator std::__cxx11::basic_string<char, std::char_traits<char>, "
                 "std::allocator<char> >() const",
                 "Foo::operator std::__cxx11::basic_string<char, std::char_traits<char>, "
                 "std::allocator<char> >",
                 "Foo::operator std::__cxx11::basic_string<char, std::char_traits<char>, "
                 "std::allocator<char> >");
}

Test(fold, anonymous_namespaces_and_lambdas)
{
    expect_forms("(anonymous namespace)::make_node(int)", "(anonymous namespace)::make_node",
                 "(anonymous namespace)::make_node");
    expect_forms("int* (anonymous namespace)::Pool<int>::take(unsigned long)",
                 "(anonymous namespace)::Pool<int>::take", "(anonymous namespace)::Pool::take");
    expect_forms("main::{lambda(int)#1}::operator()(int) const",
                 "main::{lambda(int)#1}::operator()", "main::{lambda(int)#1}::operator()");
}

Test(fold, function_pointer_return)
{
    expect_forms("void (*signal_handler_for(int))(int)", "signal_handler_for",
                 "signal_handler_for");
    expect_forms("void (*ns::lookup<int>(char const*, void (*)(int)))(int)", "ns::lookup<int>",
                 "ns::lookup");
}

Test(fold, wrapper_patterns_match_whatever_the_return_type)
{
    const char *guarded = "std::__allocated_ptr<std::allocator<X> > "
                          "std::__allocate_guarded<std::allocator<X> >(std::allocator<X>&)";
    cr_expect(sa_fold_match("std::__allocate_guarded*", guarded));
    cr_expect(sa_fold_match("std::__allocate_guarded", guarded));
    cr_expect(!sa_fold_match("std::__allocated_ptr", guarded));
    cr_expect(sa_fold_match("xmalloc", "xmalloc(unsigned long)"));
    cr_expect(sa_fold_match("xmalloc", "void* xmalloc(unsigned long)"));
    cr_expect(!sa_fold_match("xmalloc", "xmalloc_stats()"));
    cr_expect(sa_fold_match("malloc", "__GI_malloc"));
    cr_expect(sa_fold_match("ns::Pool::get", "int* ns::Pool<int, 8>::get<int>(int) const"));
}

static int is_default(const char *name)
{
    static sa_fold_forms f;
    sa_fold_forms_init(&f, name);
    return sa_fold_default_forms(&f);
}

Test(fold, default_list_folds_libstdcxx_plumbing)
{
    static const char *const plumbing[] = {
        "operator new(unsigned long)",
        "std::__allocated_ptr<std::allocator<X> > std::__allocate_guarded<std::allocator<X> >"
        "(std::allocator<X>&)",
        "std::shared_ptr<Foo> std::make_shared<Foo>()",
        "std::shared_ptr<Foo> std::allocate_shared<Foo, std::allocator<Foo>>(std::allocator<Foo> "
        "const&)",
        "std::shared_ptr<Foo>::shared_ptr<std::allocator<void>>(std::_Sp_alloc_shared_tag<"
        "std::allocator<void> >)",
        "std::__shared_ptr<Foo, (__gnu_cxx::_Lock_policy)2>::__shared_ptr<std::allocator<void>>"
        "(std::_Sp_alloc_shared_tag<std::allocator<void> >)",
        "std::__shared_count<(__gnu_cxx::_Lock_policy)2>::__shared_count<Foo, std::allocator<void>>"
        "(Foo*&, std::_Sp_alloc_shared_tag<std::allocator<void> >)",
        "std::_Sp_counted_ptr_inplace<Foo, std::allocator<void>, (__gnu_cxx::_Lock_policy)2>::"
        "_Sp_counted_ptr_inplace<>(std::allocator<void>)",
        "std::allocator_traits<std::allocator<long> >::allocate(std::allocator<long>&, "
        "unsigned long)",
        "__gnu_cxx::new_allocator<long>::allocate(unsigned long, void const*)",
        "std::__new_allocator<long>::allocate(unsigned long, void const*)",
        "void std::vector<long, std::allocator<long> >::_M_realloc_insert<long>(long*, long&&)",
        "std::vector<long, std::allocator<long> >::push_back(long&&)",
        "std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> >::"
        "_M_mutate(unsigned long, unsigned long, char const*, unsigned long)",
        "std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> >::"
        "_M_create(unsigned long&, unsigned long)",
        "std::_Rb_tree<int, std::pair<int const, int>, std::_Select1st<std::pair<int const, int> >,"
        " std::less<int>, std::allocator<std::pair<int const, int> > >::_M_get_node()",
        "std::__detail::_Hash_node<std::pair<int const, int>, false>* std::__detail::"
        "_Hashtable_alloc<std::allocator<std::__detail::_Hash_node<std::pair<int const, int>, "
        "false> > >::_M_allocate_node<std::pair<int const, int> >(std::pair<int const, int>&&)",
        "std::map<int, int, std::less<int>, std::allocator<std::pair<int const, int> > >::"
        "insert(std::pair<int const, int>&&)",
    };
    for (size_t i = 0; i < sizeof plumbing / sizeof *plumbing; i++)
        cr_expect(is_default(plumbing[i]), "not folded: %s", plumbing[i]);
}

Test(fold, default_list_keeps_user_functions)
{
    static const char *const user[] = {
        "build_cache(std::shared_ptr<Foo>&)",
        "grow_vector(std::vector<long, std::allocator<long> >&, int)",
        "std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> > "
        "make_label(int)",
        "std::vector<int, std::allocator<int> > ns::collect(std::map<int, int> const&)",
        "(anonymous namespace)::fill_map(std::map<int, int>&)",
        "std::allocator<int> get_alloc()",
        "std::shared_ptr<Foo> make_foo()",
        "main",
        "mallocate_things(int)",
    };
    for (size_t i = 0; i < sizeof user / sizeof *user; i++)
        cr_expect(!is_default(user[i]), "folded: %s", user[i]);
}
