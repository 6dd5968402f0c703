#pragma once
// ASCII case folding for protocol text (header names, host names, schemes, secret names),
// where the locale must not matter.

#include <string>
#include <string_view>

namespace jobq::kinds {

/// `s` with A-Z folded to a-z; other bytes as they are.
inline std::string ascii_lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
}

}  // namespace jobq::kinds
