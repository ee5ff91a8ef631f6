"""Privacy masks: private areas filled before a single pixel reaches disk or a screen."""
