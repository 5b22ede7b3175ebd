# ---- add-on ruby (opt-in, in no preset): Ruby 3.1 with its headers, Bundler
# and Rails 6.1, all Debian's packages (signed by the archive; no gem install
# script runs at build time). A project's own Gemfile installs its gems into
# the sandbox home with `bundle install` (native ones want the build-tools
# add-on). The original built Ruby 3.3 and Rails 8 with rbenv and gem from
# unpinned sources.
RUN set -eu; \
    apt-get update; \
    apt-get install -y --no-install-recommends ruby ruby-dev bundler rails; \
    rm -rf /usr/share/doc/ruby* /usr/share/ri; \
    apt-get clean; \
    rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin
