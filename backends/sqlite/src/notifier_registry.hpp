#pragma once
// One LocalNotifier per database file per process, shared by every SqliteStore opened on it,
// so a Queue and a Worker holding different store objects on one file still wake each other.

#include <memory>
#include <string>

#include "jobq/backend/notifier.hpp"

namespace jobq::sqlite_detail {

/// The notifier of the database file at `canonical_path`, created when no live store holds
/// one. Stores keep it alive; the registry only remembers it.
std::shared_ptr<LocalNotifier> shared_notifier(const std::string& canonical_path);

}  // namespace jobq::sqlite_detail
