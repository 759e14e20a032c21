# The fuzz regression test, for the normal build: tests/CMakeLists.txt includes this file, so
# `make test` (gcc, no libFuzzer) replays tests/fuzz/regressions/<target>/ and the seed corpora
# through the fuzz targets' own entry points. Each target's source is compiled once more, as an
# object library whose entry point is renamed with FUZZ_ENTRY so that they all link together.
set(EDDY_FUZZ_DIR ${PROJECT_SOURCE_DIR}/tests/fuzz)

function(eddy_fuzz_replay name)
  cmake_parse_arguments(F "" "" "LIBS" ${ARGN})
  add_library(fuzz_replay_${name} OBJECT ${EDDY_FUZZ_DIR}/fuzz_${name}.c)
  target_compile_definitions(fuzz_replay_${name} PRIVATE FUZZ_ENTRY=fuzz_${name}_one)
  target_link_libraries(fuzz_replay_${name} PUBLIC ${F_LIBS})
endfunction()

eddy_fuzz_replay(node_input LIBS eddy_node_core)
eddy_fuzz_replay(node_output LIBS eddy_sim_core)
eddy_fuzz_replay(scenario LIBS eddy_sim_core)
eddy_fuzz_replay(json LIBS eddy_proto PkgConfig::CJSON)
eddy_fuzz_replay(clocktrap LIBS eddy_clockctl)

add_executable(test_fuzz_regressions ${EDDY_FUZZ_DIR}/test_fuzz_regressions.c)
target_link_libraries(test_fuzz_regressions PRIVATE PkgConfig::CRITERION fuzz_replay_node_input
                      fuzz_replay_node_output fuzz_replay_scenario fuzz_replay_json
                      fuzz_replay_clocktrap)
target_compile_definitions(test_fuzz_regressions PRIVATE EDDY_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
set_target_properties(test_fuzz_regressions PROPERTIES RUNTIME_OUTPUT_DIRECTORY
                      ${CMAKE_BINARY_DIR}/tests)
add_test(NAME fuzz/regressions COMMAND test_fuzz_regressions --jobs 2)
set_tests_properties(fuzz/regressions PROPERTIES TIMEOUT 300)
