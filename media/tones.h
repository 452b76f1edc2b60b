// Supervisory tones (ITU-T E.180/Q.35): what a caller hears when b2bua itself decides a call's
// fate, so a phone tells its user why instead of going silent: busy, congestion (no way out:
// no trunk usable), and ringback. The frequencies and cadences are each country's (ITU-T E.180
// Supplement 2, for the countries in the table); spandsp's tone generator makes the audio.
//
// Threads: any. Pure: each call builds new audio.
#pragma once

#include <string>
#include <string_view>

#include "media/audio.h"

namespace b2bua::media {

enum class Tone { busy, congestion, ringback };
const char* tone_name(Tone tone);  // "busy", "congestion", "ringback"

// `seconds` of `tone` as `country` ("DE", "US", ... as routing.country) plays it; a country
// missing from the table gets the CEPT tone (425 Hz, as DE).
AudioPtr supervisory_tone(Tone tone, std::string_view country, int seconds);

// Whether the table has `country`'s own tones, and the countries it has ("AT, CH, ...").
bool has_tones(std::string_view country);
std::string tone_countries();

}  // namespace b2bua::media
