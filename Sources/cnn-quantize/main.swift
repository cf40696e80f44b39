print("cnn-quantize")
