/* leak/heuristics.c - valgrind memcheck's four interior-pointer
 * heuristics (mc_leakcheck.c, --leak-check-heuristics, all on by default
 * in memcheck 3.10 and later), so that a block the program reaches only
 * through such a pointer is "still reachable" here too, not "possibly
 * lost".  Each recognises a layout that C++ runtimes and common C code
 * produce, from the block's own words:
 *
 *   stdstring            the pointer is 3 words in: the old (COW)
 *                        std::string rep, length, capacity, refcount, then
 *                        the characters, with size == 3 words + capacity + 1
 *                        and length <= capacity
 *   length64             the pointer is 8 bytes in and the first 8 bytes
 *                        hold the rest's size (sqlite's allocations)
 *   newarray             the pointer is one word in and the first word is
 *                        a count n > 0 that divides the rest (new[] of
 *                        objects with a destructor: the array cookie)
 *   multipleinheritance  the pointer is word aligned, and both the word it
 *                        points at and the block's first word are vtable
 *                        addresses (a base-class subobject of a C++ object)
 *
 * Words the program did not write read as zeros under the check (leak/scrub.c,
 * sa_leak_scrub), which stands for memcheck's definedness test.
 *
 * A vtable address: memcheck asks the debug info for a "_ZTV" symbol; we
 * have no symbols in the process, and use the Itanium C++ ABI's layout
 * instead: a vptr points into a read-only, file-backed mapping (.data.rel.ro
 * after relocation, or .rodata), preceded by the typeinfo pointer (into
 * such a mapping too) and the offset-to-top (0 or a small negative value).
 */
#include "leak/leak.h"

#include <string.h>

#define WORD sizeof(uintptr_t)
#define PAGE0 4096u

static uintptr_t word_at(uintptr_t a)
{
    uintptr_t w;
    memcpy(&w, (const void *)a, sizeof w);
    return w;
}

/* A readable, unwritable, file-backed mapping holds [a, a + n). */
static int in_rodata(const sa_leak_ranges *maps, uintptr_t a, size_t n)
{
    sa_leak_range m;
    if (a < PAGE0 || !sa_leak_maps_find(maps, a, &m))
        return 0;
    uint32_t need = SA_MAP_R | SA_MAP_FILE;
    return (m.flags & (need | SA_MAP_W | SA_MAP_NOSCAN)) == need && a + n <= m.hi && a + n > a;
}

static int is_vtable(const sa_leak_ranges *maps, uintptr_t vptr)
{
    if (vptr % WORD || vptr < 2 * WORD + PAGE0)
        return 0;
    /* offset-to-top and typeinfo sit in the two words before the vptr,
     * in the same mapping. */
    if (!in_rodata(maps, vptr - 2 * WORD, 3 * WORD))
        return 0;
    intptr_t offset_to_top = (intptr_t)word_at(vptr - 2 * WORD);
    uintptr_t typeinfo = word_at(vptr - WORD);
    return offset_to_top <= 0 && offset_to_top > -(intptr_t)(1u << 24) && typeinfo % WORD == 0 &&
           in_rodata(maps, typeinfo, 2 * WORD);
}

int sa_leak_heur_match(unsigned mask, uintptr_t start, uint64_t size, uintptr_t ptr,
                       const sa_leak_ranges *maps)
{
    if ((mask & (1u << SA_LEAK_HEUR_STDSTRING)) && ptr == start + 3 * WORD && size >= 3 * WORD) {
        uintptr_t length = word_at(start), capacity = word_at(start + WORD);
        if (3 * WORD + capacity + 1 == size && length <= capacity)
            return SA_LEAK_HEUR_STDSTRING + 1;
    }
    if ((mask & (1u << SA_LEAK_HEUR_LENGTH64)) && ptr == start + 8 && size >= 8) {
        uint64_t rest;
        memcpy(&rest, (const void *)start, sizeof rest);
        if (rest > 0 && size - 8 == rest)
            return SA_LEAK_HEUR_LENGTH64 + 1;
    }
    if ((mask & (1u << SA_LEAK_HEUR_NEWARRAY)) && ptr == start + WORD && size >= WORD) {
        uintptr_t n = word_at(start);
        if (n > 0 && (size - WORD) % n == 0)
            return SA_LEAK_HEUR_NEWARRAY + 1;
    }
    if ((mask & (1u << SA_LEAK_HEUR_MULTIPLEINHERITANCE)) && ptr % WORD == 0 &&
        ptr + WORD <= start + size && size >= WORD) {
        uintptr_t inner = word_at(ptr), first = word_at(start);
        if (inner % WORD == 0 && inner >= PAGE0 && first % WORD == 0 && first >= PAGE0 &&
            is_vtable(maps, inner) && is_vtable(maps, first))
            return SA_LEAK_HEUR_MULTIPLEINHERITANCE + 1;
    }
    return 0;
}
