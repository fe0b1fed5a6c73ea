# The Debian package: `cpack -G DEB` in a build directory packages what `cmake --install`
# installs (src/bin and src/dist), under /usr, with stripped binaries. Depends is computed
# by dpkg-shlibdeps (dpkg-dev) from the shared libraries the binaries link; what they run
# (unshare from util-linux, perl) is Essential in Debian and is not listed.

set(CCREX_PACKAGE_MAINTAINER "ccrex maintainers <ccrex-maintainers@example.org>"
    CACHE STRING "Maintainer field of the Debian package")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME ccrex)
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_CONTACT "${CCREX_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "C and C++ compiler wrapper using the Remote Execution API")
# The long description as it shows in `apt show`: one paragraph per blank line.
set(CPACK_PACKAGE_DESCRIPTION
    "ccrex goes in front of gcc or clang where ccache would go and runs each
compile through the Remote Execution API (REAPI v2): cached results are
replayed byte for byte, misses execute on a REAPI engine, and anything it
cannot handle compiles locally, unchanged. With no configuration it uses a
local store and local workers; one setting points it at a shared engine
(BuildGrid, Buildbarn, buildbox-casd, ccrex-server).

This package holds the client ccrex, its per-user agent ccrexd, and
ccrex-server, a standalone REAPI server with a systemd unit.")
# Everything under /usr; nothing under /etc, so the package has no conffiles.
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
# Install with DESTDIR so that install(CODE) in src/dist sees the real prefix (/usr) in
# CMAKE_INSTALL_PREFIX, which ends up in the systemd unit's ExecStart.
set(CPACK_SET_DESTDIR ON)
set(CPACK_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)

set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${CCREX_PACKAGE_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "gcc | c-compiler")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "clang")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

include(CPack)
