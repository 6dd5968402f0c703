# cmake -P script behind the package.install_and_consume test. Every step must succeed, except
# the one that asks for a missing component, which must fail. Inputs (all -D):
#   JOBQ_BUILD_DIR JOBQ_CONFIG JOBQ_VERSION WORK_DIR CONSUMER_SOURCE_DIR
#   MISSING_COMPONENT_SOURCE_DIR GENERATOR CXX_COMPILER CXX_COMPILER_LAUNCHER EXTRA_FLAGS
#   JOBQ_WITH_POSTGRES (ON: the consumer also uses the postgres component)
#   JOBQ_WITH_KINDS (ON: the consumer also uses the kinds component)
#   README (README.md) README_EXAMPLE_SOURCE_DIR (the project that builds its first example)
cmake_minimum_required(VERSION 3.25)

foreach(var JOBQ_BUILD_DIR JOBQ_CONFIG JOBQ_VERSION WORK_DIR CONSUMER_SOURCE_DIR
            MISSING_COMPONENT_SOURCE_DIR GENERATOR CXX_COMPILER README README_EXAMPLE_SOURCE_DIR)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "install_and_consume.cmake: -D${var}=... is required")
  endif()
endforeach()

set(prefix ${WORK_DIR}/prefix)
set(consumer_build ${WORK_DIR}/consumer-build)
set(missing_build ${WORK_DIR}/missing-component-build)
set(run_dir ${WORK_DIR}/run)
set(readme_src ${WORK_DIR}/readme-example-src)
set(readme_build ${WORK_DIR}/readme-example-build)
set(readme_run_dir ${WORK_DIR}/readme-example-run)
# Start clean: files left by an older install would hide a file this one no longer installs.
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${run_dir} ${readme_src} ${readme_run_dir})

# Runs one step; on failure prints its output and stops the test with `what`. The step's
# standard output is left in `step_output`.
function(step what)
  message(STATUS "package: ${what}")
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "package: ${what} FAILED (${rc})\n--- stdout\n${out}\n--- stderr\n${err}")
  endif()
  set(step_output "${out}" PARENT_SCOPE)
endfunction()

# The consumer must be built the way the library was: same generator, compiler and build type.
set(configure_args
  -G ${GENERATOR}
  -DCMAKE_CXX_COMPILER=${CXX_COMPILER}
  -DCMAKE_BUILD_TYPE=${JOBQ_CONFIG}
  -DCMAKE_PREFIX_PATH=${prefix}
  # Only the scratch prefix may satisfy find_package(jobq): never a registry entry.
  -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF)
if(CXX_COMPILER_LAUNCHER)
  list(APPEND configure_args -DCMAKE_CXX_COMPILER_LAUNCHER=${CXX_COMPILER_LAUNCHER})
endif()
if(EXTRA_FLAGS)
  list(APPEND configure_args "-DCMAKE_CXX_FLAGS=${EXTRA_FLAGS}"
                             "-DCMAKE_EXE_LINKER_FLAGS=${EXTRA_FLAGS}")
endif()

step("install ${JOBQ_BUILD_DIR} to ${prefix}"
  ${CMAKE_COMMAND} --install ${JOBQ_BUILD_DIR} --prefix ${prefix} --config ${JOBQ_CONFIG})

# A required component that does not exist must stop the consumer's configure, and say which.
message(STATUS "package: find_package(jobq COMPONENTS nosuch) must fail")
execute_process(
  COMMAND ${CMAKE_COMMAND} -S ${MISSING_COMPONENT_SOURCE_DIR} -B ${missing_build}
          ${configure_args}
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(rc EQUAL 0)
  message(FATAL_ERROR "package: find_package(jobq CONFIG REQUIRED COMPONENTS nosuch) succeeded; "
                      "it must fail\n--- stdout\n${out}\n--- stderr\n${err}")
endif()
if(NOT err MATCHES "nosuch")
  message(FATAL_ERROR "package: the missing component failed without naming it\n"
                      "--- stderr\n${err}")
endif()

set(consumer_with_postgres OFF)
if(JOBQ_WITH_POSTGRES)
  set(consumer_with_postgres ON)
endif()
set(consumer_with_kinds OFF)
if(JOBQ_WITH_KINDS)
  set(consumer_with_kinds ON)
endif()
step("configure the consumer against ${prefix} (postgres: ${consumer_with_postgres}, kinds: ${consumer_with_kinds})"
  ${CMAKE_COMMAND} -S ${CONSUMER_SOURCE_DIR} -B ${consumer_build} ${configure_args}
  -DJOBQ_EXPECTED_VERSION=${JOBQ_VERSION}
  -DJOBQ_CONSUMER_WITH_POSTGRES=${consumer_with_postgres}
  -DJOBQ_CONSUMER_WITH_KINDS=${consumer_with_kinds})
step("build the consumer" ${CMAKE_COMMAND} --build ${consumer_build} --config ${JOBQ_CONFIG})
step("run the consumer" ${consumer_build}/jobq_consumer ${run_dir})
string(STRIP "${step_output}" step_output)
message(STATUS "package: ${step_output}")
message(STATUS "package: installed jobq ${JOBQ_VERSION} was found, built against and ran")

# README.md's first example, exactly as written: the cpp block right after the marker comment,
# built against the same prefix and run in a directory of its own (it creates jobs.db there).
# It must end by itself, exit 0 and print the handler's line.
set(readme_marker "<!-- readme-example:")
set(readme_expected "sending mail to a@example.com")
file(READ ${README} readme)
string(FIND "${readme}" "${readme_marker}" at)
if(at EQUAL -1)
  message(FATAL_ERROR "package: ${README} has no '${readme_marker} ... -->' line")
endif()
string(SUBSTRING "${readme}" ${at} -1 readme)
string(FIND "${readme}" "\n" at)
math(EXPR at "${at} + 1")
string(SUBSTRING "${readme}" ${at} -1 readme)
set(fence_open "```cpp\n")
string(FIND "${readme}" "${fence_open}" at)
if(NOT at EQUAL 0)
  message(FATAL_ERROR "package: the line after '${readme_marker}' in ${README} must open the "
                      "example with ```cpp")
endif()
string(LENGTH "${fence_open}" at)
string(SUBSTRING "${readme}" ${at} -1 readme)
string(FIND "${readme}" "\n```\n" at)
if(at EQUAL -1)
  message(FATAL_ERROR "package: the README example's ```cpp block is never closed")
endif()
math(EXPR at "${at} + 1")
string(SUBSTRING "${readme}" 0 ${at} readme_example)
file(WRITE ${readme_src}/main.cpp "${readme_example}")

step("configure the README example against ${prefix}"
  ${CMAKE_COMMAND} -S ${README_EXAMPLE_SOURCE_DIR} -B ${readme_build} ${configure_args}
  -DREADME_EXAMPLE_SOURCE=${readme_src}/main.cpp)
step("build the README example" ${CMAKE_COMMAND} --build ${readme_build} --config ${JOBQ_CONFIG})
message(STATUS "package: run the README example in ${readme_run_dir}")
execute_process(COMMAND ${readme_build}/readme_example
  WORKING_DIRECTORY ${readme_run_dir} TIMEOUT 60
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "package: the README example did not exit 0 (${rc})\n"
                      "--- stdout\n${out}\n--- stderr\n${err}")
endif()
string(FIND "${out}" "${readme_expected}" at)
if(at EQUAL -1)
  message(FATAL_ERROR "package: the README example exited 0 without printing "
                      "'${readme_expected}'\n--- stdout\n${out}\n--- stderr\n${err}")
endif()
message(STATUS "package: the README example built, ran its job and ended: ${readme_expected}")
