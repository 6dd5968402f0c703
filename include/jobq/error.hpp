#pragma once
// jobq::Error: the one exception type the library throws, with a stable code.

#include <stdexcept>
#include <string>
#include <string_view>

namespace jobq {

/// Stable error categories; callers branch on these, never on message text.
enum class ErrorCode {
    invalid_argument,  ///< bad input rejected at the API boundary; nothing was written
    not_found,         ///< the job (or other object) does not exist
    invalid_state,     ///< the operation does not apply to the job's current state
    storage,           ///< the database failed (I/O, full disk, constraint, busy too long)
    schema,            ///< the database schema is missing or newer than this library
    unavailable,       ///< the component is stopped or shutting down
    quota_exceeded,    ///< a tenant's quota of queued jobs is full (QuotaExceeded); nothing written
};

/// Name of an error code as used in logs and the CLI ("invalid_argument", ...).
std::string_view to_string(ErrorCode code) noexcept;

/// `text` safe to quote in a message shown on a terminal or in a log: bytes that are not UTF-8
/// as \xNN; control characters, and spaces other than U+0020 and invisible formatting
/// characters that would hide or reorder the text around them, as \uXXXX. jobq's own messages
/// quote outside input this way.
std::string printable(std::string_view text);

/// The exception type of jobq. `field()` names the offending input where there is one.
class Error : public std::runtime_error {
  public:
    Error(ErrorCode code, std::string message, std::string field = {});

    /// The stable category of the error.
    ErrorCode code() const noexcept { return code_; }
    /// The input field at fault ("priority", "payload", ...) or empty.
    const std::string& field() const noexcept { return field_; }

  private:
    ErrorCode code_;
    std::string field_;
};

}  // namespace jobq
