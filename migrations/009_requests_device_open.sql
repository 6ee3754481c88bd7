-- A device's pending and running requests, newest first, without sorting all of them: the
-- catalogue lists them on every publish, and a flooded worklist can leave tens of thousands.
CREATE INDEX requests_device_open ON requests (device, updated_at) WHERE state IN ('pending', 'running');
