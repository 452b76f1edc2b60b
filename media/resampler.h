// Sample-rate conversion to kAudioRate for files recorded at other rates (wav.cpp), with
// libsoxr's high-quality filter: going down from 44.1 kHz without a steep anti-alias filter
// would fold everything above 4 kHz back into the telephone band as audible hiss.
//
// Rules: mono float in, float out; push blocks with process(), then finish() once for the
// filter's tail. An error (from soxr) is kept in error() and the resampler outputs nothing more.
#pragma once

#include <soxr.h>

#include <memory>
#include <span>
#include <string>
#include <vector>

namespace b2bua::media {

class Resampler {
 public:
  Resampler(double in_rate, double out_rate);

  const std::string& error() const { return error_; }
  // Appends the output `in` gives so far to `out`.
  void process(std::span<const float> in, std::vector<float>& out);
  // Appends the rest (the filter's delay line) to `out`; call once, after the last process().
  void finish(std::vector<float>& out);

 private:
  void run(const float* in, size_t len, std::vector<float>& out);

  struct Delete {
    void operator()(soxr_t s) const { soxr_delete(s); }
  };
  std::unique_ptr<struct soxr, Delete> soxr_;
  double ratio_ = 1;
  std::string error_;
};

}  // namespace b2bua::media
