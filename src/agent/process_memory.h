#pragma once

// How the agent's process hands memory back to the system. glibc gives each thread that
// allocates while another holds the main heap an arena of its own (up to eight per core);
// every arena keeps what a burst of compiles freed, so an idle agent held its high-water
// mark. Capping the arenas at two saved little once the scan records were packed and cost
// warm hits about 8% (the embedded server's threads then wait for each other's heap), so
// the agent keeps glibc's arenas and trims them when it goes quiet instead.

namespace ccrex::agent {

// Hand freed heap memory back to the system (the top of each arena and whole free pages
// inside it). Costs a walk of the free lists: call it when the agent goes quiet.
void release_free_memory();

} // namespace ccrex::agent
