// <jobq/kinds.hpp> alone, from the installed tree.

#include <jobq/kinds.hpp>

#include <type_traits>

static_assert(std::is_class_v<jobq::kinds::FailureNotifier>);
