# mr-srtp-bench-*: srtp_protect per packet, once per libsrtp2 the configure
# step found (the one built on OpenSSL by scripts/libsrtp-openssl.sh, and the
# system's). Included by the top-level CMakeLists.txt; built with the
# project, run by `make bench-srtp`, never by `make test`.
set(srtp_bench_variants)
if(TARGET mr_libsrtp_openssl)
  list(APPEND srtp_bench_variants openssl mr_libsrtp_openssl)
endif()
if(SRTP2_FOUND)
  list(APPEND srtp_bench_variants system PkgConfig::SRTP2)
endif()
while(srtp_bench_variants)
  list(POP_FRONT srtp_bench_variants variant lib)
  add_executable(mr-srtp-bench-${variant} ${CMAKE_CURRENT_LIST_DIR}/srtp_bench.c
                 ${PROJECT_SOURCE_DIR}/relay/srtp/srtp_backend.c
                 ${PROJECT_SOURCE_DIR}/relay/srtp/hmac_sha1.c
                 ${PROJECT_SOURCE_DIR}/relay/srtp/srtp_send.c
                 ${PROJECT_SOURCE_DIR}/relay/rtp/rtp.c)
  target_include_directories(mr-srtp-bench-${variant} PRIVATE ${PROJECT_SOURCE_DIR}/relay)
  target_link_libraries(mr-srtp-bench-${variant} PRIVATE ${lib} PkgConfig::OPENSSL)
  set_target_properties(mr-srtp-bench-${variant} PROPERTIES
    RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests/bench)
endwhile()
