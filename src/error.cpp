#include "jobq/error.hpp"

#include "detail/utf8.hpp"

namespace jobq {

std::string_view to_string(ErrorCode code) noexcept {
    switch (code) {
        case ErrorCode::invalid_argument:
            return "invalid_argument";
        case ErrorCode::not_found:
            return "not_found";
        case ErrorCode::invalid_state:
            return "invalid_state";
        case ErrorCode::storage:
            return "storage";
        case ErrorCode::schema:
            return "schema";
        case ErrorCode::unavailable:
            return "unavailable";
        case ErrorCode::quota_exceeded:
            return "quota_exceeded";
    }
    return "unknown";
}

Error::Error(ErrorCode code, std::string message, std::string field)
    : std::runtime_error(std::move(message)), code_(code), field_(std::move(field)) {}

std::string printable(std::string_view text) {
    return detail::printable(text);
}

}  // namespace jobq
