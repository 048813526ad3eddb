#include "app/batch.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

#include "core/file.h"

namespace vitrine::app {
namespace fs = std::filesystem;
namespace {

std::string FormatDuration(double seconds) {
  int s = static_cast<int>(seconds + 0.5);
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%d:%02d", s / 60, s % 60);
  return buffer;
}

// Output paths decided up front, so workers never race on names.
std::vector<std::string> OutputPaths(const std::vector<std::string>& inputs,
                                     const BatchOptions& options, const std::string& variant) {
  std::map<std::string, int> used;
  std::vector<std::string> paths;
  for (const std::string& input : inputs) {
    std::string stem = fs::path(input).stem().string();
    int n = ++used[stem];
    if (n > 1) stem.append("_").append(std::to_string(n));
    if (!variant.empty()) stem.append("_").append(variant);
    paths.push_back((fs::path(options.output_dir) /
                     (stem + "." + std::string(io::FormatExtension(options.encode.format))))
                        .string());
  }
  return paths;
}

}  // namespace

std::vector<std::string> ExpandInputs(const std::vector<std::string>& args,
                                      std::vector<std::string>* missing) {
  std::vector<std::string> files;
  for (const std::string& arg : args) {
    std::error_code ec;
    if (fs::is_directory(arg, ec)) {
      std::vector<std::string> found = io::ListImageFiles(arg);
      files.insert(files.end(), found.begin(), found.end());
    } else if (fs::exists(arg, ec)) {
      files.push_back(arg);
    } else {
      missing->push_back(arg);
    }
  }
  return files;
}

BatchReport RunBatch(const std::vector<std::string>& inputs,
                     const std::vector<std::string>& missing, const LimitsConfig& limits,
                     const BatchOptions& options, const ImageStep& step) {
  return RunBatch(inputs, missing, limits, options, {""},
                  [&step](const Image& image) -> Result<std::vector<Image>> {
                    Result<Image> result = step(image);
                    if (!result.ok()) return result.status();
                    return std::vector<Image>{std::move(result).value()};
                  });
}

BatchReport RunBatch(const std::vector<std::string>& inputs,
                     const std::vector<std::string>& missing, const LimitsConfig& limits,
                     const BatchOptions& options, const std::vector<std::string>& variants,
                     const MultiImageStep& step) {
  const auto start = std::chrono::steady_clock::now();
  const bool live = isatty(STDERR_FILENO);
  const int total = static_cast<int>(inputs.size() + missing.size());
  BatchReport report;
  std::vector<std::string> failures;
  for (const std::string& path : missing) {
    failures.push_back(path + ": no such file or folder; check the path");
    std::fprintf(stderr, "FAILED %s\n", failures.back().c_str());
  }
  report.failed = static_cast<int>(missing.size());

  std::error_code ec;
  fs::create_directories(options.output_dir, ec);
  if (ec) {
    std::fprintf(stderr, "cannot create output folder %s: %s\n", options.output_dir.c_str(),
                 ec.message().c_str());
    report.failed = total;
    return report;
  }

  std::vector<std::vector<std::string>> outputs;  // [variant][input]
  for (const std::string& variant : variants) {
    outputs.push_back(OutputPaths(inputs, options, variant));
  }
  std::atomic<size_t> next{0};
  std::mutex mutex;  // guards report, failures and the progress output
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  auto finish = [&](size_t index, const Status& status) {
    std::lock_guard<std::mutex> lock(mutex);
    const std::string& input = inputs[index];
    if (status.ok()) {
      ++report.succeeded;
    } else {
      ++report.failed;
      failures.push_back(status.message());
    }
    const int done = report.succeeded + report.failed;
    const int processed = done - static_cast<int>(missing.size());
    const double rate = processed > 0 ? processed / elapsed() : 0;
    const int left = total - done;
    if (live) {
      if (!status.ok()) std::fprintf(stderr, "\r\033[KFAILED %s\n", status.message().c_str());
      std::fprintf(stderr, "\r\033[K[%d/%d] %.2f images/s, ETA %s  %s", done, total, rate,
                   rate > 0 ? FormatDuration(left / rate).c_str() : "-:--",
                   fs::path(input).filename().c_str());
      if (done == total) std::fprintf(stderr, "\n");
    } else if (status.ok()) {
      std::fprintf(stderr, "[%d/%d] ok %s -> %s%s\n", done, total, input.c_str(),
                   outputs.front()[index].c_str(), outputs.size() > 1 ? " ..." : "");
    } else {
      std::fprintf(stderr, "[%d/%d] FAILED %s\n", done, total, status.message().c_str());
    }
    std::fflush(stderr);
  };
  // Every message names the input (io's already do).
  auto process = [&](size_t index) -> Status {
    Result<Image> image = io::ReadImageFile(inputs[index], limits);
    if (!image.ok()) return image.status();
    Result<std::vector<Image>> results = step(*image);
    if (!results.ok()) return results.status().WithContext(inputs[index]);
    if (results->size() != outputs.size()) {
      return Internal(inputs[index] + ": the step made " + std::to_string(results->size()) +
                      " images for " + std::to_string(outputs.size()) + " outputs");
    }
    for (size_t v = 0; v < outputs.size(); ++v) {
      Result<std::string> bytes = options.encoder ? options.encoder((*results)[v])
                                                  : io::EncodeImage((*results)[v], options.encode);
      if (!bytes.ok()) return bytes.status().WithContext(inputs[index]);
      // An encoder may choose another format (export falls back to PNG): name the file by it.
      fs::path path = outputs[v][index];
      const io::Format written = io::SniffFormat(*bytes);
      if (written != io::Format::kUnknown && written != options.encode.format) {
        path.replace_extension(io::FormatExtension(written));
      }
      RETURN_IF_ERROR(WriteFileAtomic(path.string(), *bytes));
    }
    return Status::Ok();
  };
  auto worker = [&] {
    for (size_t i = next++; i < inputs.size(); i = next++) finish(i, process(i));
  };
  const int jobs = std::clamp(options.jobs, 1, std::max(1, static_cast<int>(inputs.size())));
  std::vector<std::thread> threads;
  for (int j = 1; j < jobs; ++j) threads.emplace_back(worker);
  worker();
  for (std::thread& t : threads) t.join();

  report.seconds = elapsed();
  std::printf("%s %d of %d images in %.1f s (%.2f images/s); results in %s\n", options.verb.c_str(),
              report.succeeded, total, report.seconds,
              report.seconds > 0 ? report.succeeded / report.seconds : 0.0,
              options.output_dir.c_str());
  if (!failures.empty()) {
    std::printf("%d failed:\n", report.failed);
    for (const std::string& f : failures) std::printf("  %s\n", f.c_str());
  }
  return report;
}

}  // namespace vitrine::app
