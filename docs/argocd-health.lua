-- Argo CD health check of a serving.inferenceops.dev InferenceService. It reads the
-- status the way kstatus (Flux, kubectl wait) does: a spec the operator has not seen
-- yet is Progressing, Stalled=True is Degraded, Reconciling=True is Progressing, and
-- otherwise the Ready condition decides. Unlike kstatus, a service without any status
-- yet is Progressing, not Healthy. It uses only Lua's base library, which Argo CD
-- opens for every health check.
local hs = { status = "Progressing", message = "Waiting for the operator to report status" }
if obj.metadata.deletionTimestamp ~= nil then
  hs.message = "Pending deletion"
  return hs
end
if obj.status == nil or obj.status.conditions == nil then
  return hs
end
local generation = obj.metadata.generation
local observed = obj.status.observedGeneration
if generation ~= nil and observed ~= nil and observed ~= generation then
  hs.message = "Waiting for the operator to observe generation " .. generation .. " (status describes " .. observed .. ")"
  return hs
end
local ready = nil
for _, condition in ipairs(obj.status.conditions) do
  if condition.type == "Stalled" and condition.status == "True" then
    hs.status = "Degraded"
    hs.message = condition.message
    return hs
  end
  if condition.type == "Reconciling" and condition.status == "True" then
    hs.message = condition.message
    return hs
  end
  if condition.type == "Ready" then
    ready = condition
  end
end
if ready == nil then
  return hs
end
if ready.status == "True" then
  hs.status = "Healthy"
end
hs.message = ready.message
return hs
