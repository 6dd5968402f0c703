// <jobq/postgres.hpp> alone: the core's umbrella and PostgresStore, from the installed tree.

#include <jobq/postgres.hpp>

#include <type_traits>

static_assert(std::is_base_of_v<jobq::Store, jobq::PostgresStore>);
static_assert(std::is_class_v<jobq::Worker> && std::is_class_v<jobq::Queue>);
