#include "recipe/cache.h"

#include <algorithm>
#include <chrono>
#include <filesystem>

#include "core/file.h"
#include "core/sha256.h"
#include "io/image_io.h"

namespace vitrine::recipe {
namespace fs = std::filesystem;

ModelHashes CatalogModelHashes(const models::ModelCatalog& catalog) {
  ModelHashes hashes;
  for (const models::ModelInfo& m : catalog.List()) hashes[m.name] = m.source_sha256;
  return hashes;
}

Result<std::string> CacheKey(const std::string& source_hash, const ops::OpSchema& schema,
                             const nlohmann::json& params, const ModelHashes& models,
                             const std::string& previous_key) {
  std::string text = "vitrine-cache-1\n" + source_hash + "\n" + schema.name + "\n" +
                     std::to_string(schema.version) + "\n" + CanonicalJson(params) + "\n";
  for (const std::string& model : schema.models) {
    auto it = models.find(model);
    if (it == models.end()) {
      return NotFound("op '" + schema.name + "' needs the model '" + model +
                      "', which the model catalogue does not list; `vitrine models list` shows "
                      "the models");
    }
    text += model + "=" + it->second + "\n";
  }
  text += previous_key;
  return Sha256Hex(text);
}

ImageCache::ImageCache(std::string dir, LimitsConfig limits)
    : dir_(std::move(dir)), limits_(limits) {}

std::string ImageCache::PathFor(const std::string& key) const {
  return (fs::path(dir_) / key.substr(0, 2) / (key + ".png")).string();
}

std::optional<Image> ImageCache::Get(const std::string& key, nlohmann::json* facts) const {
  const std::string path = PathFor(key);
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return std::nullopt;
  Result<std::string> bytes = io::ReadFile(path, limits_.max_bytes);
  Result<Image> image = bytes.ok() ? io::DecodeImage(*bytes, limits_, "") : bytes.status();
  if (!image.ok()) {
    fs::remove(path, ec);  // corrupt or truncated: recompute and rewrite
    return std::nullopt;
  }
  fs::last_write_time(path, fs::file_time_type::clock::now(), ec);  // recently used
  if (facts) {
    *facts = nlohmann::json::object();
    if (fs::exists(path + ".json", ec)) {
      Result<std::string> text = io::ReadFile(path + ".json", limits_.max_bytes);
      nlohmann::json parsed =
          text.ok() ? nlohmann::json::parse(*text, nullptr, false) : nlohmann::json();
      if (!parsed.is_object()) {  // a torn sidecar: recompute
        fs::remove(path, ec);
        return std::nullopt;
      }
      *facts = std::move(parsed);
    }
  }
  return *std::move(image);
}

Status ImageCache::Put(const std::string& key, const Image& image,
                       const nlohmann::json& facts) const {
  ASSIGN_OR_RETURN(std::string png, io::EncodeImage(image, io::EncodeOptions{}));
  const fs::path path = PathFor(key);
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  if (ec) {
    return ErrnoStatus("create the cache folder", path.parent_path().string(), ec.value());
  }
  // The sidecar first: an image without its facts would be read as an entry with none.
  if (!facts.empty()) {
    RETURN_IF_ERROR(WriteFileAtomic(path.string() + ".json", facts.dump(), IfExists::kKeep));
  }
  return WriteFileAtomic(path.string(), png, IfExists::kKeep);
}

Result<ImageCache::PruneStats> ImageCache::Prune(int64_t max_bytes) const {
  struct Entry {
    fs::file_time_type used;
    std::string path;
    int64_t bytes;
  };
  std::vector<Entry> entries;
  const auto stale = fs::file_time_type::clock::now() - std::chrono::hours(1);
  PruneStats stats;
  std::error_code ec;
  if (!fs::exists(dir_, ec)) return stats;
  for (auto it = fs::recursive_directory_iterator(dir_, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    std::error_code entry_ec;
    if (!it->is_regular_file(entry_ec)) continue;
    const std::string path = it->path().string();
    const auto used = fs::last_write_time(it->path(), entry_ec);
    const auto bytes = static_cast<int64_t>(fs::file_size(it->path(), entry_ec));
    if (entry_ec) continue;  // removed meanwhile
    if (it->path().extension() == ".png") {
      entries.push_back({used, path, bytes});
    } else if ((path.find(".png.tmp-") != std::string::npos ||
                path.find(".png.json.tmp-") != std::string::npos) &&
               used < stale) {
      stats.removed += fs::remove(it->path(), entry_ec) ? 1 : 0;
    }
  }
  if (ec) {
    return Unavailable("cannot list the cache folder " + dir_ + " (" + ec.message() +
                       "); check its permissions");
  }
  // Newest first; keep while the budget lasts.
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.used != b.used ? a.used > b.used : a.path < b.path;
  });
  for (const Entry& entry : entries) {
    // An entry is its image and, when the op reported facts, their sidecar.
    std::error_code size_ec;
    const std::string sidecar = entry.path + ".json";
    const auto sidecar_size = fs::file_size(sidecar, size_ec);
    const int64_t bytes = entry.bytes + (size_ec ? 0 : static_cast<int64_t>(sidecar_size));
    if (stats.kept_bytes + bytes <= max_bytes) {
      stats.kept_bytes += bytes;
      ++stats.kept;
      continue;
    }
    std::error_code remove_ec;
    if (fs::remove(entry.path, remove_ec)) ++stats.removed;
    fs::remove(sidecar, remove_ec);
  }
  return stats;
}

std::string_view StepSourceName(StepSource source) {
  switch (source) {
    case StepSource::kComputed:
      return "computed";
    case StepSource::kCache:
      return "cache";
    case StepSource::kMemory:
      return "memory";
  }
  return "computed";
}

PlanExecutor::PlanExecutor(const ops::Registry& registry, ops::OpContext context,
                           ModelHashes models, const ImageCache* cache, const Image& source,
                           std::string source_hash)
    : registry_(registry),
      context_(context),
      models_(std::move(models)),
      cache_(cache),
      source_(source),
      source_hash_(std::move(source_hash)) {}

Result<Image> PlanExecutor::Run(const PlanStep& step, std::vector<StepRecord>* records) {
  ASSIGN_OR_RETURN(const Done* done, Obtain(step, records));
  Image out = done->image;
  out.name = source_.name;
  return out;
}

void PlanExecutor::Forget(const PlanStep& step) { done_.erase(step.key); }

Result<const PlanExecutor::Done*> PlanExecutor::Obtain(const PlanStep& step,
                                                       std::vector<StepRecord>* records) {
  if (auto it = done_.find(step.key); it != done_.end()) {
    if (records)
      records->push_back({step.id, step.op, it->second.cache_key, StepSource::kMemory, 0});
    return &it->second;
  }
  const Done* previous = nullptr;
  if (step.previous) {
    ASSIGN_OR_RETURN(previous, Obtain(*step.previous, records));
  }
  const ops::OpDef* def = registry_.Find(step.op);
  if (!def) return NotFound("unknown op '" + step.op + "'; `vitrine ops` lists them");
  ASSIGN_OR_RETURN(std::string key, CacheKey(source_hash_, def->schema, step.params, models_,
                                             previous ? previous->cache_key : ""));
  const auto start = std::chrono::steady_clock::now();
  StepRecord record{step.id, step.op, key, StepSource::kCache, 0};
  nlohmann::json facts = nlohmann::json::object();
  std::optional<Image> image = cache_ ? cache_->Get(key, &facts) : std::nullopt;
  if (!image) {
    record.source = StepSource::kComputed;
    const Image& input = previous ? previous->image : source_;
    ops::OpContext context = context_;
    facts = nlohmann::json::object();
    context.facts = &facts;
    Result<Image> computed = def->run(input, step.params, context);
    if (!computed.ok()) return computed.status().WithContext(step.id + " (" + step.op + ")");
    image = *std::move(computed);
    // A failed write only costs a recomputation next time; the run goes on.
    if (cache_) (void)cache_->Put(key, *image, facts);
  }
  record.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (records) records->push_back(record);
  return &done_.emplace(step.key, Done{key, *std::move(image), std::move(facts)}).first->second;
}

const nlohmann::json& PlanExecutor::Facts(const PlanStep& step) const {
  static const nlohmann::json kNone = nlohmann::json::object();
  auto it = done_.find(step.key);
  return it == done_.end() ? kNone : it->second.facts;
}

}  // namespace vitrine::recipe
