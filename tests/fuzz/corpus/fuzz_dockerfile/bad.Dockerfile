# args: --checks all
FROM ubuntu
ARG DB_PASSWORD
ENV API_TOKEN=abc123 PATH=/usr/bin
ENV GITHUB_TOKEN=$GITHUB_TOKEN
RUN apt-get update && apt-get install curl && cd /tmp
RUN curl -fsSL https://example.com/install.sh | sudo bash
RUN wget -qO- https://example.com/x | sh -s -- --yes
RUN echo "curl x | sh"
RUN apk add git
ADD app.py /app/
ADD https://example.com/file.tgz /tmp/
EXPOSE 80 22/tcp
USER root
