# Component file of jobq: the SQLite backend (jobq::sqlite).
include(CMakeFindDependencyMacro)
find_dependency(SQLite3)
include("${CMAKE_CURRENT_LIST_DIR}/jobq-sqlite-targets.cmake")
