#pragma once

// How the agent's process keeps its heap small. glibc gives each thread that allocates while
// another holds the main heap an arena of its own (up to eight per core). The agent's
// long-lived caches (scan records, digests, the embedded server's index) are allocated by
// whichever compile thread met them first, between that compile's temporaries, so each
// arena ends up holding about a megabyte of free holes too small to hand back. Four arenas
// bound that waste while every thread of a -j2 build still finds a heap of its own: two,
// measured against no cap, saved 0.8 to 2.4 MiB of an idle agent but made hits 7% slower;
// four saved 0.7 to 1.4 MiB for 2 to 4% (agent_memory_bench.sh). When the agent goes quiet
// it also trims what can be handed back.

namespace ccrex::agent {

inline constexpr int k_heap_arenas = 4;

// Let the process's heap use at most `arenas` arenas, unless the user chose otherwise
// through MALLOC_ARENA_MAX or GLIBC_TUNABLES. Call it before starting any thread.
void limit_heap_arenas(int arenas = k_heap_arenas);

// Hand freed heap memory back to the system (the top of each arena and whole free pages
// inside it). Costs a walk of the free lists: call it when the agent goes quiet.
void release_free_memory();

} // namespace ccrex::agent
