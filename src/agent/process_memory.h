#pragma once

// How the agent's process uses the C allocator. glibc gives each thread that allocates
// while another holds the main heap an arena of its own, up to eight per core; the agent's
// worker threads each took one, and every arena kept its high-water mark and the holes
// between long-lived cache entries, so memory a compile freed was not reused by the next
// compile on another thread and was never handed back. The agent allocates little per
// compile beside its caches, so two arenas lose no measurable time.

namespace ccrex::agent {

// Cap the allocator at two arenas. Call first in main(), before any thread starts.
void limit_allocator_arenas();

// Hand freed heap memory back to the system (top of each arena and whole free pages
// inside it). Costs a walk of the free lists: call it when the agent goes quiet.
void release_free_memory();

} // namespace ccrex::agent
