# Component file of jobq: the PostgreSQL backend (jobq::postgres).
include(CMakeFindDependencyMacro)
find_dependency(PkgConfig)
if(NOT TARGET PkgConfig::JOBQ_PQXX)
  pkg_check_modules(JOBQ_PQXX REQUIRED IMPORTED_TARGET libpqxx>=6.4)
endif()
include("${CMAKE_CURRENT_LIST_DIR}/jobq-postgres-targets.cmake")
