#!/bin/sh
# py_objects.sh - CPython's tests of its objects and data modules (dict,
# list, set, str, bytes, json, re, zlib, gc, mmap) end the same way
# with snapalloc preloaded, under tracing and under `snapalloc check` as in
# the plain run: with PYTHONMALLOC=malloc every object they build, resize
# and free is a malloc block of ours.
set -eu
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/real/py_lib.sh"
py_init py_objects

for m in test_dict test_list test_set test_unicode test_bytes test_json test_re \
    test_zlib test_gc test_mmap; do
    py_select $m
done
py_check_modes \
    test_dict.DictTest.test_resize1 \
    test_json.test_recursion.TestPyRecursion.test_highly_nested_objects_encoding \
    test_zlib.CompressObjectTestCase.test_big_compress_buffer \
    test_gc.GCTests.test_function
sa_pass
