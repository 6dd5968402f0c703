# Component file of jobq: the built-in job kinds on libcurl (jobq::kinds).
include(CMakeFindDependencyMacro)
find_dependency(CURL 7.85)
find_dependency(OpenSSL COMPONENTS Crypto)
include("${CMAKE_CURRENT_LIST_DIR}/jobq-kinds-targets.cmake")
