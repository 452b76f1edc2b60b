#include "media/resampler.h"

#include <cmath>

namespace b2bua::media {

Resampler::Resampler(double in_rate, double out_rate) : ratio_(out_rate / in_rate) {
  soxr_error_t err = nullptr;
  const soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
  // HQ: 20-bit precision, passband to 91% of the output's Nyquist: ample for speech on a phone.
  const soxr_quality_spec_t quality = soxr_quality_spec(SOXR_HQ, 0);
  soxr_.reset(soxr_create(in_rate, out_rate, 1, &err, &io, &quality, nullptr));
  if (err || !soxr_) {
    error_ = std::string("resampler: ") + (err ? err : "cannot create");
    soxr_.reset();
  }
}

void Resampler::process(std::span<const float> in, std::vector<float>& out) {
  if (!in.empty()) run(in.data(), in.size(), out);
}

void Resampler::finish(std::vector<float>& out) { run(nullptr, 0, out); }

// soxr takes what fits and keeps the rest of its output for the next call: loop until the input
// is used up (or, when flushing with in == nullptr, until nothing more comes).
void Resampler::run(const float* in, size_t len, std::vector<float>& out) {
  if (!soxr_) return;
  const size_t room = static_cast<size_t>(std::ceil(static_cast<double>(len) * ratio_)) + 256;
  size_t used = 0;
  for (;;) {
    const size_t at = out.size();
    out.resize(at + room);
    size_t idone = 0;
    size_t odone = 0;
    const float* src = in ? in + used : nullptr;
    soxr_error_t err = soxr_process(soxr_.get(), src, in ? len - used : 0, &idone, out.data() + at, room, &odone);
    out.resize(at + odone);
    if (err) {
      error_ = std::string("resampler: ") + err;
      soxr_.reset();
      return;
    }
    used += idone;
    if (odone == 0 && idone == 0) return;  // drained (flush), or no progress: never spin
    if (in && used >= len && odone < room) return;
  }
}

}  // namespace b2bua::media
