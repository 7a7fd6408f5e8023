#!/bin/sh
# perl.sh - perl building, sorting and joining hashes of strings.
# BENCH_QUICK=1: 100k keys instead of 1M.
n=1000000; [ "${BENCH_QUICK:-0}" = 1 ] && n=100000
exec perl -e '
my $n = shift; my %h; my $s = 0;
for my $i (1 .. $n) { $h{"key$i"} = "v" x ($i % 97) . $i; }
for my $k (sort keys %h) { $s = ($s * 31 + length($h{$k})) % 1000000007; }
my @a = map { [$_, length $h{$_}] } keys %h; undef %h;
my $j = join ",", map { $_->[1] } sort { $a->[1] <=> $b->[1] || $a->[0] cmp $b->[0] } @a;
print "RESULT perl $n $s ", length($j), "\n";' "$n"
