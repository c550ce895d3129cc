# mr_wsproto: the room protocol's sources (signaling/ws/proto*.c, the same
# files as mr_ws) built against test doubles instead of the relay and the
# HTTP server (of which only the pure error-code table, http/error_code.c,
# and the layer caps' names, relay/sfu/layer_name.c, are taken as they are), for fuzz_wsproto.c (which the fuzz_* rule links to it
# by its name). fake_relay.c stands in for relay/sfu/relay.h, fake_ws.c for
# signaling/http/ws.h and for the control loop's clock and timer; neither
# mr_sfu nor mr_http is linked (nor libnice, GStreamer, libwebsockets).
#
# The protocol's sources are compiled with fake.h force-included and
# MR_FAKE_TIME defined: that swaps core/clock.h's inline monotonic clock
# and GLib's g_timeout_add/g_source_remove for fake_ws.c's, so a fuzz script
# moves time and fires the protocol's timer itself (see fake.h).
#
# Coverage: with MEDRELAY_FUZZ the top-level CMakeLists.txt compiles every
# target, this library included, with -fsanitize=fuzzer-no-link,address,
# undefined; the fuzz_* rule adds -fsanitize=fuzzer to the executables.
file(GLOB mr_wsproto_proto CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/signaling/ws/proto*.c)
add_library(mr_wsproto STATIC ${mr_wsproto_proto} ${CMAKE_CURRENT_LIST_DIR}/fake_relay.c
            ${CMAKE_CURRENT_LIST_DIR}/fake_relay_rooms.c ${CMAKE_CURRENT_LIST_DIR}/fake_relay_events.c
            ${CMAKE_CURRENT_LIST_DIR}/fake_ws.c
            ${PROJECT_SOURCE_DIR}/signaling/http/error_code.c
            ${PROJECT_SOURCE_DIR}/relay/sfu/layer_name.c)
set_source_files_properties(${mr_wsproto_proto} TARGET_DIRECTORY mr_wsproto PROPERTIES
                            COMPILE_OPTIONS "-include;${CMAKE_CURRENT_LIST_DIR}/fake.h"
                            COMPILE_DEFINITIONS MR_FAKE_TIME)
# signaling/ (ws/, http/ws.h, auth/, room/) and relay/ (sfu/relay.h, core/,
# record/record.h): the directories mr_ws gets from mr_http and mr_sfu,
# named here because their libraries are not linked.
target_include_directories(mr_wsproto PUBLIC ${CMAKE_CURRENT_LIST_DIR}
                           ${PROJECT_SOURCE_DIR}/signaling ${PROJECT_SOURCE_DIR}/relay)
target_link_libraries(mr_wsproto PUBLIC mr_room mr_auth mr_core PkgConfig::JANSSON
                      PkgConfig::GLIB)
