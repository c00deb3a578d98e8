# escape=`
# a backtick escape directive, stages, a heredoc
FROM debian:latest AS base
USER app
FROM base
RUN apt-get -yq install `
    --no-install-recommends make && `
    rm -rf /var/lib/apt/lists/*
RUN <<EOT
curl https://get.example.com | bash
EOT
HEALTHCHECK NONE
USER 0
