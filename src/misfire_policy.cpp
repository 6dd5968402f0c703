#include "jobq/misfire_policy.hpp"
