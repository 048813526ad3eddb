# make        set-up (idempotent) and build build/vitrine
# make test   set-up, build, prepare models, run every test
# make demo   set-up, build, prepare models, cut out the sample photos
BUILD ?= build
JOBS ?= $(shell nproc)

.PHONY: all setup configure build models test demo bench clean format

all: build

setup:
	@scripts/setup

$(BUILD)/build.ninja: CMakeLists.txt
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null

build: setup $(BUILD)/build.ninja
	@cmake --build $(BUILD) -j $(JOBS)

models: build
	@$(BUILD)/vitrine models prepare

test: models
	@cd $(BUILD) && ctest --output-on-failure -j 2 --timeout 1200

demo: models
	@scripts/demo

clean:
	rm -rf $(BUILD)

format:
	@clang-format -i $$(git ls-files '*.cpp' '*.h')
