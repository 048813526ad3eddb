// Content-addressed cache of intermediate images, and the executor that runs plan steps through
// it so that each distinct step is computed once per SKU and, across runs, only when something it
// depends on changed.
//
// A step's cache key is the sha256 of: the source image's hash (the decoded photo's file bytes),
// the op's name and version, its params as canonical JSON (keys sorted), the sha256 of every
// model the op's schema lists (the catalogue's pinned source hashes), and the previous step's
// cache key (empty for the first step). So changing a step's params, bumping its op's version or
// replacing one of its models misses for that step and every step after it, while the steps
// before it still hit. Ops flagged non-deterministic (generative backends) are cached like the
// others: a re-run reproduces the first result, and a new sample needs a new param (a seed).
//
// Entries are PNG files (8-bit BGR with alpha when the image has transparency) at
// <dir>/<key[0:2]>/<key>.png, written to a temporary name and renamed, so a reader never sees a
// partial file and concurrent writers of the same key are harmless (the first one stays). An
// entry that cannot be read or decoded is treated as a miss and removed.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/image.h"
#include "core/status.h"
#include "models/catalog.h"
#include "ops/op.h"
#include "recipe/recipe.h"

namespace vitrine::recipe {

// Model name -> sha256 (hex) of its source, as pinned in the catalogue.
using ModelHashes = std::map<std::string, std::string>;
ModelHashes CatalogModelHashes(const models::ModelCatalog& catalog);

// The cache key (64 hex digits) of running `schema`'s op with `params` (validated) after the
// step whose key is `previous_key`, on the source whose hash is `source_hash`. NotFound when the
// op lists a model that `models` does not have (naming it).
Result<std::string> CacheKey(const std::string& source_hash, const ops::OpSchema& schema,
                             const nlohmann::json& params, const ModelHashes& models,
                             const std::string& previous_key);

// Thread-safe: every method touches only the file system, atomically.
class ImageCache {
 public:
  // `dir` is created on the first Put. `limits` bound what Get decodes.
  ImageCache(std::string dir, LimitsConfig limits);

  const std::string& dir() const { return dir_; }
  std::string PathFor(const std::string& key) const;

  // The image stored under `key` (Image::name empty), or nullopt on a miss. A corrupt entry is a
  // miss and is removed. A hit marks the entry as recently used (its modification time), for
  // Prune. `facts`, when given, receives the facts stored with the image (an empty object if none).
  std::optional<Image> Get(const std::string& key, nlohmann::json* facts = nullptr) const;
  // Stores `image` under `key`; an existing entry is kept (its content is the same by
  // construction). Errors from encoding or writing (ResourceExhausted for a full disk, ...):
  // callers may ignore them and carry on uncached.
  // `facts` (the op's OpContext::facts), when not empty, go to <key>.json beside the image.
  Status Put(const std::string& key, const Image& image,
             const nlohmann::json& facts = nlohmann::json::object()) const;

  struct PruneStats {
    int64_t kept_bytes = 0;
    int kept = 0;
    int removed = 0;
  };
  // Removes the least recently used entries (oldest modification time first; ties by key; an
  // entry's bytes are its image's and its facts sidecar's) until the entries left hold at most
  // `max_bytes`, and temporary files left by a crashed writer that
  // are older than an hour. Safe while other threads or processes use the cache: an entry
  // removed under a reader is a miss there. Unavailable if the folder cannot be listed.
  Result<PruneStats> Prune(int64_t max_bytes) const;

 private:
  std::string dir_;
  LimitsConfig limits_;
};

// How one step's image was obtained.
enum class StepSource { kComputed, kCache, kMemory };
std::string_view StepSourceName(StepSource source);  // "computed", "cache", "memory"

struct StepRecord {
  std::string id;  // PlanStep::id
  std::string op;
  std::string cache_key;
  StepSource source = StepSource::kComputed;
  double seconds = 0;  // spent obtaining it (running the op, or reading the cache)
};

// Runs plan steps for one source image. Each distinct step (by PlanStep::key) is obtained once:
// from this executor's memory, else from the cache (if any), else by running the op, whose result
// is then stored in the cache. Keeps every intermediate image in memory for its lifetime: use
// one executor per SKU photo and drop it afterwards.
//
// Not thread-safe (one per thread); the registry, models and cache it borrows must outlive it.
class PlanExecutor {
 public:
  // `cache` may be null (no disk cache). `source_hash` identifies `source` (e.g. Sha256Hex of the
  // file's bytes); `source` is borrowed and never modified.
  PlanExecutor(const ops::Registry& registry, ops::OpContext context, ModelHashes models,
               const ImageCache* cache, const Image& source, std::string source_hash);

  // The image after `step` (running what comes before it first). Appends to `records` (may be
  // null), in order, one record per step this call obtained, starting with the step at which it
  // found the rest in memory (source kMemory) if any. Errors: the op's own, NotFound
  // for an op or model that is not there. Image::name is the source's. The image shares pixels
  // with the executor's memory (and with later results that start from it): clone before
  // writing into it.
  Result<Image> Run(const PlanStep& step, std::vector<StepRecord>* records = nullptr);
  // The facts the op of `step` reported (OpContext::facts) when it was obtained by Run; an
  // empty object if it reported none or has not run.
  const nlohmann::json& Facts(const PlanStep& step) const;

  // Drops `step`'s image from memory (the disk cache keeps it), for a runner done with a
  // candidate's last steps: 8 staged 2000x2000 candidates hold about 100 MB otherwise. A later
  // Run that needs it reads it from the cache or recomputes it.
  void Forget(const PlanStep& step);

 private:
  struct Done {
    std::string cache_key;
    Image image;
    nlohmann::json facts = nlohmann::json::object();
  };
  Result<const Done*> Obtain(const PlanStep& step, std::vector<StepRecord>* records);

  const ops::Registry& registry_;
  ops::OpContext context_;
  ModelHashes models_;
  const ImageCache* cache_;
  const Image& source_;
  std::string source_hash_;
  std::map<std::string, Done> done_;  // PlanStep::key -> result
};

}  // namespace vitrine::recipe
