// <jobq/sqlite.hpp> alone: the core's umbrella and SqliteStore, from the installed tree.

#include <jobq/sqlite.hpp>

#include <type_traits>

static_assert(std::is_base_of_v<jobq::Store, jobq::SqliteStore>);
static_assert(std::is_class_v<jobq::Worker> && std::is_class_v<jobq::Queue>);
