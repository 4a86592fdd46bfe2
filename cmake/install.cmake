# What `cmake --install` (and `make install`) puts where: docs/install.md.
# Included by the top CMakeLists.txt once the targets exist.
#
#   bin/xipc                         the CLI (Windows: bin/xipc.exe)
#   lib/libxipc.so.X.Y.Z, .so.0, .so the shared library (Windows: bin/libxipc.dll,
#                                    lib/libxipc.dll.a)
#   lib/libxipc.a                    the static library
#   include/xipc/*.h                 the public headers
#   lib/pkgconfig/xipc.pc            pkg-config
#   lib/cmake/xipc/                  find_package(xipc): xipc::xipc, xipc::xipc_static
#   share/man/man1/xipc.1, man7/xipc.7   (not on Windows: docs/man/CMakeLists.txt)
#
# lib is CMAKE_INSTALL_LIBDIR (GNUInstallDirs: lib/<multiarch> for the
# prefix /usr on Debian).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(XIPC_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/xipc)

install(TARGETS xipc xipc_static EXPORT xipcTargets
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}  # the DLL
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}  # libxipc.so and its links
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}  # libxipc.a, libxipc.dll.a
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS xipc_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY include/xipc DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

# xipc.h declares functions __declspec(dllimport) when XIPC_SHARED is
# defined: users of the DLL get it from the imported target.
if(WIN32)
  target_compile_definitions(xipc INTERFACE XIPC_SHARED)
endif()

# The CMake package: the targets, relocatable (the files find the prefix
# from where they lie), the dependencies xipc::xipc_static needs
# (xipcConfig.cmake.in), and a version file: 0.x accepts 0.y.
install(EXPORT xipcTargets NAMESPACE xipc:: DESTINATION ${XIPC_CMAKE_DIR})
set(XIPC_CONFIG_THREADS OFF)
if("Threads::Threads" IN_LIST XIPC_OS_LIBS)
  set(XIPC_CONFIG_THREADS ON)
endif()
set(XIPC_CONFIG_OPENSSL OFF)
if(XIPC_HAVE_TLS AND NOT WIN32)
  set(XIPC_CONFIG_OPENSSL ON)
endif()
configure_package_config_file(cmake/xipcConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/xipcConfig.cmake
  INSTALL_DESTINATION ${XIPC_CMAKE_DIR})
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/xipcConfigVersion.cmake
  COMPATIBILITY SameMajorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/xipcConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/xipcConfigVersion.cmake
        DESTINATION ${XIPC_CMAKE_DIR})

# pkg-config. Libs.private: what libxipc.a links, as xipc_static does
# (XIPC_OS_LIBS, OpenSSL): -lws2_32... on Windows; on Linux rt, the
# threads flag when this libc needs one, -lssl -lcrypto with tls+tcp://.
set(XIPC_PC_LIBS_PRIVATE "")
foreach(lib ${XIPC_OS_LIBS})
  if(lib STREQUAL "Threads::Threads")
    string(APPEND XIPC_PC_LIBS_PRIVATE " ${CMAKE_THREAD_LIBS_INIT}")
  else()
    string(APPEND XIPC_PC_LIBS_PRIVATE " -l${lib}")
  endif()
endforeach()
if(XIPC_CONFIG_OPENSSL)
  # -L only where the linker would not look anyway (an OpenSSL of its own)
  get_filename_component(ssl_dir "${OPENSSL_SSL_LIBRARY}" DIRECTORY)
  if(NOT ssl_dir IN_LIST CMAKE_C_IMPLICIT_LINK_DIRECTORIES)
    string(APPEND XIPC_PC_LIBS_PRIVATE " -L${ssl_dir}")
  endif()
  string(APPEND XIPC_PC_LIBS_PRIVATE " -lssl -lcrypto")
endif()
string(REGEX REPLACE "  +" " " XIPC_PC_LIBS_PRIVATE "${XIPC_PC_LIBS_PRIVATE}")
string(STRIP "${XIPC_PC_LIBS_PRIVATE}" XIPC_PC_LIBS_PRIVATE)
# The prefix relative to the .pc file itself (${pcfiledir}), so that the
# file is right wherever the tree lands: `cmake --install --prefix DIR`
# after a configure for another prefix, or DESTDIR staging. Directories
# given absolute stay absolute.
set(XIPC_PC_LIBDIR "\${prefix}/${CMAKE_INSTALL_LIBDIR}")
set(XIPC_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(XIPC_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
  set(XIPC_PC_LIBDIR "${CMAKE_INSTALL_LIBDIR}")
else()
  file(RELATIVE_PATH up "/p/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/p")
  string(REGEX REPLACE "/$" "" up "${up}") # ../..
  set(XIPC_PC_PREFIX "\${pcfiledir}/${up}")
endif()
if(IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(XIPC_PC_INCLUDEDIR "${CMAKE_INSTALL_INCLUDEDIR}")
endif()
configure_file(cmake/xipc.pc.in ${CMAKE_CURRENT_BINARY_DIR}/xipc.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/xipc.pc
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

add_subdirectory(docs/man) # xipc(1), xipc(7)
