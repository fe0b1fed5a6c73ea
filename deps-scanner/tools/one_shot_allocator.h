#pragma once

// A bump allocator behind the global operator new/delete of the ccrex-depscan CLI (linked
// into that executable only, never into the library or the agent).
//
// A one-shot scan allocates some 20,000 small objects (memo nodes, paths, directive lists)
// and frees almost none of them before the process exits. Once enabled, operator new
// carves them out of one large reservation by advancing a pointer, and operator delete
// leaves them there: no malloc bookkeeping, no free lists, and the memory is touched
// contiguously. Memory given out before enable() comes from malloc and goes back to free;
// memory beyond the reservation falls back to malloc as well. Nothing is ever reused, so
// enable it only for a process that does a bounded amount of work and exits (not for
// --repeat, whose warm loop would grow without bound).
//
// Thread safety: operator new/delete are thread-safe (the bump pointer is atomic);
// enable() must be called before any other thread exists.

namespace ccrex::depscan::tools {

// Reserve the arena and route later allocations to it. Returns false (and changes nothing)
// when the reservation fails; allocation then simply stays with malloc.
bool enable_one_shot_allocator();

} // namespace ccrex::depscan::tools
