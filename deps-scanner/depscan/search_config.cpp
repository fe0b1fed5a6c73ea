#include "depscan/search_config.h"

#include "util/file.h"
#include "util/strings.h"

#include <algorithm>
#include <array>

namespace ccrex::depscan {
namespace {

// How an option is handled. Options are matched by exact name, or as a prefix with the value
// joined ("-Idir", "--sysroot=dir").
enum class OptKind {
  include_dir, // -I
  quote_dir,   // -iquote
  system_dir,  // -isystem
  after_dir,   // -idirafter
  forced,      // -include, -imacros
  define,      // -D
  sysroot,     // --sysroot, -isysroot
  language,    // -x
  output,      // -o
  dep_target,  // -MT, -MQ
  probe,       // passed to the built-in probe (value included)
  skip_arg,    // ignored, takes a value
  unsupported, // makes the scan unsound
};

struct OptSpec {
  std::string_view name;
  OptKind kind;
  bool separate; // the value may be the next argument
  bool joined;   // the value may be glued to the name
};

// Sorted only for readability; lookups try exact names first, then the longest prefix.
constexpr std::array k_options = {
    OptSpec{"--define-macro", OptKind::define, true, false},
    OptSpec{"--define-macro=", OptKind::define, false, true},
    OptSpec{"--include", OptKind::forced, true, false},
    OptSpec{"--include-directory", OptKind::include_dir, true, false},
    OptSpec{"--include-directory=", OptKind::include_dir, false, true},
    OptSpec{"--param", OptKind::skip_arg, true, false},
    OptSpec{"--sysroot", OptKind::sysroot, true, false},
    OptSpec{"--sysroot=", OptKind::sysroot, false, true},
    OptSpec{"--target=", OptKind::probe, false, true},
    OptSpec{"--gcc-toolchain=", OptKind::probe, false, true},
    OptSpec{"-A", OptKind::skip_arg, true, true},
    OptSpec{"-B", OptKind::probe, true, true},
    OptSpec{"-D", OptKind::define, true, true},
    OptSpec{"-F", OptKind::unsupported, true, true},
    OptSpec{"-I", OptKind::include_dir, true, true},
    OptSpec{"-I-", OptKind::unsupported, false, false},
    OptSpec{"-L", OptKind::skip_arg, true, true},
    OptSpec{"-MF", OptKind::skip_arg, true, true},
    OptSpec{"-MJ", OptKind::skip_arg, true, true},
    OptSpec{"-MQ", OptKind::dep_target, true, true},
    OptSpec{"-MT", OptKind::dep_target, true, true},
    OptSpec{"-U", OptKind::skip_arg, true, true},
    OptSpec{"-Xassembler", OptKind::skip_arg, true, false},
    OptSpec{"-Xclang", OptKind::unsupported, true, false},
    OptSpec{"-Xlinker", OptKind::skip_arg, true, false},
    OptSpec{"-Xpreprocessor", OptKind::unsupported, true, false},
    OptSpec{"-arch", OptKind::probe, true, false},
    OptSpec{"-aux-info", OptKind::skip_arg, true, false},
    OptSpec{"-dumpbase", OptKind::skip_arg, true, false},
    OptSpec{"-dumpdir", OptKind::skip_arg, true, false},
    OptSpec{"-fcxx-modules", OptKind::unsupported, false, false},
    OptSpec{"-fmodule-map-file=", OptKind::unsupported, false, true},
    OptSpec{"-fmodules", OptKind::unsupported, false, false},
    OptSpec{"-fmodules-ts", OptKind::unsupported, false, false},
    OptSpec{"-fpreprocessed", OptKind::unsupported, false, false},
    OptSpec{"-gcc-toolchain", OptKind::probe, true, false},
    OptSpec{"-idirafter", OptKind::after_dir, true, true},
    OptSpec{"-iframework", OptKind::unsupported, true, true},
    OptSpec{"-imacros", OptKind::forced, true, true},
    OptSpec{"-imultilib", OptKind::unsupported, true, true},
    OptSpec{"-include", OptKind::forced, true, true},
    OptSpec{"-iprefix", OptKind::unsupported, true, true},
    OptSpec{"-iquote", OptKind::quote_dir, true, true},
    OptSpec{"-isysroot", OptKind::sysroot, true, true},
    OptSpec{"-isystem", OptKind::system_dir, true, true},
    OptSpec{"-isystem-after", OptKind::unsupported, true, true},
    OptSpec{"-iwithprefix", OptKind::unsupported, true, true},
    OptSpec{"-iwithprefixbefore", OptKind::unsupported, true, true},
    OptSpec{"-l", OptKind::skip_arg, true, true},
    OptSpec{"-m32", OptKind::probe, false, false},
    OptSpec{"-m64", OptKind::probe, false, false},
    OptSpec{"-mx32", OptKind::probe, false, false},
    OptSpec{"-nobuiltininc", OptKind::probe, false, false},
    OptSpec{"-nostdlibinc", OptKind::probe, false, false},
    OptSpec{"-o", OptKind::output, true, true},
    OptSpec{"-remap", OptKind::unsupported, false, false},
    OptSpec{"-resource-dir", OptKind::probe, true, false},
    OptSpec{"-resource-dir=", OptKind::probe, false, true},
    OptSpec{"-specs=", OptKind::probe, false, true},
    OptSpec{"-stdlib=", OptKind::probe, false, true},
    OptSpec{"-target", OptKind::probe, true, false},
    OptSpec{"-traditional", OptKind::unsupported, false, false},
    OptSpec{"-traditional-cpp", OptKind::unsupported, false, false},
    OptSpec{"-u", OptKind::skip_arg, true, true},
    OptSpec{"-wrapper", OptKind::skip_arg, true, false},
    OptSpec{"-x", OptKind::language, true, true},
    OptSpec{"-z", OptKind::skip_arg, true, false},
};

// Find the spec for `arg`: an exact name first, then the longest joined prefix.
const OptSpec* find_option(std::string_view arg, std::string_view& joined_value) {
  const OptSpec* best = nullptr;
  for (const OptSpec& spec : k_options) {
    if (arg == spec.name) {
      joined_value = {};
      return &spec;
    }
    if (spec.joined && arg.size() > spec.name.size() && arg.starts_with(spec.name)
        && (best == nullptr || spec.name.size() > best->name.size())) {
      best = &spec;
    }
  }
  if (best != nullptr) {
    joined_value = arg.substr(best->name.size());
  }
  return best;
}

ScanFailure fail(FailureReason reason, std::string detail) {
  return ScanFailure{reason, std::move(detail)};
}

std::string strip_trailing_slashes(std::string dir) {
  while (dir.size() > 1 && dir.back() == '/') {
    dir.pop_back();
  }
  return dir;
}

// Split a response file's text into arguments (whitespace-separated, with '...', "..." and
// backslash escapes as gcc's libiberty does).
std::vector<std::string> split_response_file(std::string_view text) {
  std::vector<std::string> out;
  std::string cur;
  bool have = false;
  char quote = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\\' && i + 1 < text.size()) {
      cur.push_back(text[++i]);
      have = true;
    } else if (quote != 0) {
      if (c == quote) {
        quote = 0;
      } else {
        cur.push_back(c);
      }
    } else if (c == '\'' || c == '"') {
      quote = c;
      have = true;
    } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      if (have) {
        out.push_back(std::move(cur));
        cur.clear();
        have = false;
      }
    } else {
      cur.push_back(c);
      have = true;
    }
  }
  if (have) {
    out.push_back(std::move(cur));
  }
  return out;
}

ScanResultOr<std::vector<std::string>>
expand_response_files(const std::vector<std::string>& args, const std::string& cwd, int depth) {
  std::vector<std::string> out;
  for (const std::string& arg : args) {
    if (arg.size() < 2 || arg[0] != '@') {
      out.push_back(arg);
      continue;
    }
    if (depth > 8) {
      return fail(FailureReason::bad_arguments, "response files nested too deeply");
    }
    const std::string path = arg[1] == '/' ? arg.substr(1) : util::join_path(cwd, arg.substr(1));
    auto text = util::read_file(path);
    if (!text) {
      return fail(FailureReason::bad_arguments, "cannot read response file " + path);
    }
    CCREX_ASSIGN_OR_RETURN(auto nested,
                           expand_response_files(split_response_file(*text), cwd, depth + 1));
    out.insert(out.end(), nested.begin(), nested.end());
  }
  return out;
}

std::string env_value(const std::vector<std::string>& env, std::string_view name) {
  for (const std::string& entry : env) {
    if (entry.size() > name.size() && entry[name.size()] == '='
        && std::string_view(entry).starts_with(name)) {
      return entry.substr(name.size() + 1);
    }
  }
  return {};
}

// Append the ':'-separated directories of `value`; an empty element means ".", as in gcc.
void append_path_list(std::vector<std::string>& dirs, const std::string& value) {
  if (value.empty()) {
    return;
  }
  for (const std::string_view part : util::split(value, ':')) {
    dirs.push_back(part.empty() ? std::string(".") : strip_trailing_slashes(std::string(part)));
  }
}

bool language_from_x(std::string_view x, Language& out) {
  if (x == "c" || x == "c-header" || x == "cpp-output") {
    out = Language::c;
  } else if (x == "c++" || x == "c++-header" || x == "c++-cpp-output") {
    out = Language::cxx;
  } else if (x == "objective-c" || x == "objective-c-header" || x == "objc-cpp-output") {
    out = Language::objc;
  } else if (x == "objective-c++" || x == "objective-c++-header"
             || x == "objective-c++-cpp-output") {
    out = Language::objcxx;
  } else if (x == "assembler") {
    out = Language::assembler;
  } else if (x == "assembler-with-cpp") {
    out = Language::assembler_with_cpp;
  } else {
    return false;
  }
  return true;
}

// State carried through the argument walk.
struct Extraction {
  SearchConfig config;
  std::string forced_x; // the current -x value ("" or "none": by extension)
  bool have_source = false;
  bool trigraph_option = false; // -trigraphs or -ftrigraphs seen
  std::string last_std;         // the last -std= value, "ansi" for -ansi
  // An assembler -I ended a -Wa, list or -Xassembler value: the next piece names its
  // directory (the assembler sees the pieces of all of them in order).
  bool wa_dir_pending_in_next = false;
};

// Return whether the standard `std` (a -std= value) converts trigraphs: the ISO C ones and
// the ISO C++ ones before C++17 (GNU dialects and C++17 on ignore them). An unknown value
// counts as converting, the safe side.
bool standard_has_trigraphs(std::string_view std) {
  if (std.empty() || std.starts_with("gnu")) {
    return false;
  }
  for (const std::string_view later :
       {"c++17", "c++1z", "c++20", "c++2a", "c++23", "c++2b", "c++26", "c++2c"}) {
    if (std == later) {
      return false;
    }
  }
  return true;
}

// Record the assembler options of a -Wa, list or -Xassembler value that name .include
// directories (-Idir, or -I followed by the directory as the next piece).
void apply_assembler_pieces(Extraction& ex, const std::vector<std::string_view>& pieces) {
  for (const std::string_view piece : pieces) {
    if (ex.wa_dir_pending_in_next) {
      ex.config.asm_include_dirs.push_back(strip_trailing_slashes(std::string(piece)));
      ex.wa_dir_pending_in_next = false;
    } else if (piece == "-I") {
      ex.wa_dir_pending_in_next = true;
    } else if (piece.size() > 2 && piece.starts_with("-I")) {
      ex.config.asm_include_dirs.push_back(strip_trailing_slashes(std::string(piece.substr(2))));
    }
  }
}

ScanResultOr<bool> apply_option(Extraction& ex,
                                const OptSpec& spec,
                                const std::string& name,
                                const std::string& value) {
  SearchConfig& c = ex.config;
  const std::string& dir = value;
  switch (spec.kind) {
  case OptKind::include_dir:
    c.bracket_dirs.push_back(strip_trailing_slashes(dir));
    break;
  case OptKind::quote_dir:
    c.quote_dirs.push_back(strip_trailing_slashes(dir));
    break;
  case OptKind::system_dir:
    c.system_dirs.push_back(strip_trailing_slashes(dir));
    break;
  case OptKind::after_dir:
    c.after_dirs.push_back(strip_trailing_slashes(dir));
    break;
  case OptKind::forced:
    c.forced_includes.push_back(value);
    break;
  case OptKind::define:
    c.defines.push_back(value);
    break;
  case OptKind::sysroot:
    c.sysroot = value;
    c.probe_args.push_back(name == "-isysroot" ? "-isysroot" : "--sysroot");
    c.probe_args.push_back(value);
    break;
  case OptKind::language:
    ex.forced_x = value;
    break;
  case OptKind::output:
    c.output = value;
    break;
  case OptKind::dep_target:
    c.dep_targets.push_back(value);
    break;
  case OptKind::probe:
    c.probe_args.push_back(name);
    if (spec.separate && !value.empty() && !spec.joined) {
      c.probe_args.push_back(value);
    } else if (!value.empty()) {
      c.probe_args.back() += value;
    }
    break;
  case OptKind::skip_arg:
    break;
  case OptKind::unsupported:
    return fail(FailureReason::unsupported_option, "option " + name + " is not modelled");
  }
  return true;
}

ScanResultOr<bool> add_operand(Extraction& ex, const std::string& arg) {
  Language lang = Language::c;
  if (!ex.forced_x.empty() && ex.forced_x != "none") {
    if (!language_from_x(ex.forced_x, lang)) {
      return fail(FailureReason::unsupported_option, "language -x " + ex.forced_x);
    }
  } else if (!language_from_extension(arg, lang)) {
    const size_t slash = arg.rfind('/');
    const size_t dot = arg.rfind('.');
    const std::string_view ext =
        dot == std::string::npos || (slash != std::string::npos && dot < slash)
            ? std::string_view()
            : std::string_view(arg).substr(dot);
    if (ext == ".s") {
      lang = Language::assembler;
    } else if (ext == ".S" || ext == ".sx") {
      lang = Language::assembler_with_cpp;
    } else {
      return true; // an object file or library for the link step
    }
  }
  if (ex.have_source) {
    return fail(FailureReason::bad_arguments, "more than one source file");
  }
  ex.have_source = true;
  ex.config.source = arg;
  ex.config.language = lang;
  return true;
}

} // namespace

std::string_view language_name(Language language) {
  switch (language) {
  case Language::c:
    return "c";
  case Language::cxx:
    return "c++";
  case Language::objc:
    return "objective-c";
  case Language::objcxx:
    return "objective-c++";
  case Language::assembler:
    return "assembler";
  case Language::assembler_with_cpp:
    return "assembler-with-cpp";
  }
  return "c";
}

std::string_view failure_reason_name(FailureReason reason) {
  switch (reason) {
  case FailureReason::computed_include:
    return "computed_include";
  case FailureReason::unsupported_option:
    return "unsupported_option";
  case FailureReason::unreadable_file:
    return "unreadable_file";
  case FailureReason::bad_arguments:
    return "bad_arguments";
  case FailureReason::probe_failed:
    return "probe_failed";
  case FailureReason::trigraphs:
    return "trigraphs";
  }
  return "unknown";
}

std::string ScanFailure::to_string() const {
  return std::string(failure_reason_name(reason)) + ": " + detail;
}

bool language_from_extension(std::string_view path, Language& out) {
  const size_t dot = path.rfind('.');
  if (dot == std::string_view::npos || path.find('/', dot) != std::string_view::npos) {
    return false;
  }
  const std::string_view ext = path.substr(dot + 1);
  static constexpr std::array<std::string_view, 3> k_c = {"c", "i", "h"};
  static constexpr std::array<std::string_view, 16> k_cxx = {"cc",
                                                             "cp",
                                                             "cpp",
                                                             "cxx",
                                                             "c++",
                                                             "C",
                                                             "CPP",
                                                             "ii",
                                                             "hh",
                                                             "hpp",
                                                             "hxx",
                                                             "H",
                                                             "h++",
                                                             "HPP",
                                                             "tcc",
                                                             "cppm"};
  if (std::find(k_c.begin(), k_c.end(), ext) != k_c.end()) {
    out = Language::c;
  } else if (std::find(k_cxx.begin(), k_cxx.end(), ext) != k_cxx.end()) {
    out = Language::cxx;
  } else if (ext == "m" || ext == "mi") {
    out = Language::objc;
  } else if (ext == "mm" || ext == "M" || ext == "mii") {
    out = Language::objcxx;
  } else {
    return false;
  }
  return true;
}

ScanResultOr<SearchConfig> extract_search_config(const std::vector<std::string>& raw_args,
                                                 const std::string& cwd,
                                                 const std::vector<std::string>& env) {
  CCREX_ASSIGN_OR_RETURN(const std::vector<std::string> args,
                         expand_response_files(raw_args, cwd, 0));
  Extraction ex;
  ex.config.cwd = cwd;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg.size() < 2 || arg[0] != '-') {
      CCREX_TRY(add_operand(ex, arg));
      continue;
    }
    if (arg == "-nostdinc") {
      ex.config.nostdinc = true;
      ex.config.implicit_predef = false;
      continue;
    }
    if (arg == "-ffreestanding" || arg == "-fno-hosted") {
      ex.config.implicit_predef = false;
      continue;
    }
    if (arg == "-nostdinc++") {
      ex.config.nostdincxx = true;
      continue;
    }
    if (arg.starts_with("-std=") || arg.starts_with("--std=")) {
      ex.config.std = arg.substr(arg.find('=') + 1);
      ex.last_std = ex.config.std;
      continue;
    }
    if (arg == "-ansi") {
      ex.last_std = "ansi";
      continue;
    }
    if (arg == "-trigraphs" || arg == "-ftrigraphs") {
      ex.trigraph_option = true;
      continue;
    }
    if (arg.starts_with("-Wa,")) {
      apply_assembler_pieces(ex, util::split(std::string_view(arg).substr(4), ','));
      continue;
    }
    if (arg.starts_with("-Wp,")) {
      // Options for the preprocessor itself: only its definitions are modelled.
      const auto pieces = util::split(std::string_view(arg).substr(4), ',');
      for (size_t p = 0; p < pieces.size(); ++p) {
        if (pieces[p] == "-D" && p + 1 < pieces.size()) {
          ex.config.defines.emplace_back(pieces[++p]);
        } else if (pieces[p].size() > 2 && pieces[p].starts_with("-D")) {
          ex.config.defines.emplace_back(pieces[p].substr(2));
        }
      }
      continue;
    }
    if (arg == "-Xassembler" && i + 1 < args.size()) {
      apply_assembler_pieces(ex, {std::string_view(args[++i])});
      continue;
    }
    std::string_view joined;
    const OptSpec* spec = find_option(arg, joined);
    if (spec == nullptr) {
      continue; // warnings, optimisation, code generation, -M/-MD/-MMD/-MP/-MG, -c, -E ...
    }
    std::string value(joined);
    if (value.empty() && spec->separate) {
      if (i + 1 >= args.size()) {
        return fail(FailureReason::bad_arguments, "missing argument to " + arg);
      }
      value = args[++i];
    }
    CCREX_TRY(apply_option(ex, *spec, std::string(spec->name), value));
  }
  if (!ex.have_source) {
    return fail(FailureReason::bad_arguments, "no source file");
  }
  SearchConfig& c = ex.config;
  c.trigraphs = ex.trigraph_option || standard_has_trigraphs(ex.last_std);
  // A leading '=' means "below the sysroot", whichever order the options came in.
  for (auto* dirs : {&c.quote_dirs, &c.bracket_dirs, &c.system_dirs, &c.after_dirs}) {
    for (std::string& dir : *dirs) {
      if (!dir.empty() && dir[0] == '=') {
        dir = c.sysroot + dir.substr(1);
      }
    }
  }
  append_path_list(c.bracket_dirs, env_value(env, "CPATH"));
  // Assembly is preprocessed as C.
  const char* lang_var = c.language == Language::cxx      ? "CPLUS_INCLUDE_PATH"
                         : c.language == Language::objc   ? "OBJC_INCLUDE_PATH"
                         : c.language == Language::objcxx ? "OBJCPLUS_INCLUDE_PATH"
                                                          : "C_INCLUDE_PATH";
  append_path_list(c.system_dirs, env_value(env, lang_var));
  return std::move(ex.config);
}

} // namespace ccrex::depscan
