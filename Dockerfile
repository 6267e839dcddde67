# One image for every service; docker-compose.yml picks the service with SERVICE.
FROM node:20.19-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.base.json tsconfig.json ./
COPY packages packages
COPY services services
COPY test/tsconfig.json test/tsconfig.json
RUN npm ci --no-audit --no-fund && npx tsc -b packages/*/ services/*/ \
  && node services/admin-api/dashboard/build.cjs && npm prune --omit=dev

FROM node:20.19-bookworm-slim
ENV NODE_ENV=production BIND_HOST=0.0.0.0
WORKDIR /app
COPY --from=build /app /app
USER node
CMD ["sh", "-c", "exec node services/${SERVICE:?set SERVICE to a folder under services/}/dist/main.js"]
