#pragma once

// Build the REAPI Action for one compile: the input root (only the files the compile reads
// that lie below the project root, paths relative to it), the Command (the compile's
// arguments, a minimal fixed environment, the expected outputs, the working directory)
// and the Action (command, input root, platform, and a salt that binds the compiler's
// identity and the content of every input outside the project root).
//
// Two checkouts of the same sources in different directories get the same action digest,
// unless the output records where it was built (debug info, coverage, absolute paths on
// the command line): then the project root is part of the key (as CCREX_STAGE_ROOT in the
// Command environment) and servers that understand it (ccrex-server and the embedded one)
// run the compile at that same absolute path, so the object matches a local compile byte
// for byte. For other engines such a compile runs through /bin/sh: the arguments name the
// project's absolute paths with a token for the root, and the wrapper replaces the token
// with the path where the engine staged the input root, adds -ffile-prefix-map from that
// path to the local root (gcc and clang leave the option out of the object, so it is the
// local compile's), and reports the path in an extra output, with which the client turns
// the engine's paths in stdout, stderr and the dependency file back into local ones. What
// such a map cannot cover (coverage, split DWARF, a prefix map of the user's) cannot run
// there; the pipeline compiles it locally.
//
// A hermetic action (agent/hermetic_toolchain.h) is built otherwise: its input root is the
// action's `/`, holding the compiler's closure and every input at its absolute path, and its
// working directory is the local one, so nothing needs remapping and every compile is
// location-dependent at no cost.

#include "agent/config.h"
#include "agent/deps.h"
#include "agent/file_digests.h"
#include "agent/hermetic_toolchain.h"
#include "agent/project.h"
#include "reapi/capabilities.h"
#include "reapi/merkle_tree.h"
#include "reapi/proto.h"
#include "toolchain/command_parser.h"
#include "toolchain/toolchain_id.h"
#include "util/result.h"

#include <string>
#include <string_view>
#include <vector>

namespace ccrex::agent {

// Name of the Command environment variable asking the server to stage the input root at
// this absolute path.
inline constexpr const char* k_stage_root_env = "CCREX_STAGE_ROOT";
// For engines that stage elsewhere (see the file comment): the Command environment
// variables holding the local project root and the working directory below it, the token
// standing for the engine's input root in the arguments, and the output in which the
// wrapper reports that root.
inline constexpr const char* k_local_root_env = "CCREX_LOCAL_ROOT";
inline constexpr const char* k_working_dir_env = "CCREX_WORKING_DIR";
inline constexpr std::string_view k_root_token = "@@CCREX_ROOT@@";
inline constexpr std::string_view k_engine_root_output = ".ccrex-engine-root";

// What an expected output is to the client.
enum class OutputKind {
  file,                  // written as the result holds it
  gcc_dependency_file,   // written with the engine's root replaced by the local one and
  clang_dependency_file, // the lines wrapped as that compiler would have (dep_file.h)
  engine_root,           // not written: where the engine staged the input root (see above)
};

struct ExpectedOutput {
  // Path relative to the Command's working directory, as listed in output_files.
  std::string remote_path;
  // Absolute local path it is written to (for the engine_root kind: the local project
  // root, which the engine's root stands for).
  std::string local_path;
  // Whether a successful compile always writes it (the object, the dependency file): a
  // result of exit code 0 without it is incomplete.
  bool required = false;
  OutputKind kind = OutputKind::file;
  // Whether the compiler writes it in place (the dependency file: opened for writing, not
  // replaced), so that an existing file keeps its permission bits.
  bool in_place = false;
};

struct BuiltAction {
  reapi::v2::Command command;
  reapi::v2::Action action;
  reapi::v2::Digest action_digest;
  // Input root plus the Command and Action blobs: everything to upload on a miss.
  reapi::InputRoot input_root;
  std::vector<ExpectedOutput> outputs;
  // True when the key includes the project root (see the file comment).
  bool location_dependent = false;
  // True for a hermetic action (see the file comment).
  bool hermetic = false;
  // True when the Command runs the compiler through the remapping wrapper (a
  // location-dependent compile for an engine that stages elsewhere; see the file comment).
  bool remaps_root = false;
  // The client's logical working directory ($PWD, reached through a symlink) when the
  // compile is location-dependent and $PWD is not the physical cwd: the compiler records
  // $PWD, which only a compile in the agent reproduces. It is part of the key.
  std::string logical_cwd;
  // Inputs outside the project root that are not part of the compiler's built-in
  // directories (they must exist on the worker at the same path).
  std::vector<std::string> foreign_inputs;
};

struct ActionContext {
  const toolchain::ParsedCommand& command;
  // Resolved absolute compiler path (argv[0] of the remote command).
  const std::string& compiler;
  const toolchain::ToolchainId& toolchain;
  const Dependencies& dependencies;
  const PathMapper& paths;
  const Config& config;
  // The client's environment.
  const std::vector<std::string>& env;
  // Whether the executor stages at the same absolute path (embedded server, ccrex-server).
  bool same_path = false;
  // The compiler's closure for a hermetic action (see the file comment); null otherwise.
  const HermeticToolchain* hermetic = nullptr;
};

// Build the action. Errors are reasons to compile locally (an output outside the working
// directory, an input that escapes the project root through a relative path, an unreadable
// input); their message says which file.
util::Result<BuiltAction> build_action(const ActionContext& ctx, FileDigests& digests);

// Return `built` with its Command naming the outputs in `fields` only, and the Command,
// Action and action digest rebuilt to match. build_action() fills both kinds of field (the
// shape for engines that accept REAPI 2.0 and later versions); an engine that speaks only
// 2.0, or only 2.1 and later, gets this shape instead.
BuiltAction with_output_fields(const BuiltAction& built, reapi::OutputFields fields);

// Return `arg` with an absolute path below `paths.root()` (the whole argument, or after an
// option that takes a path) starting with k_root_token instead of the root, for the
// remapping wrapper. Other arguments are returned as is.
std::string root_token_argument(const std::string& arg, const PathMapper& paths);

} // namespace ccrex::agent
