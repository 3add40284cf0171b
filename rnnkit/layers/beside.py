"""The layers beside the RNNs, gathered for ``rnnkit.layers`` (one list to export and register).

Each family lives in its own module, as Keras 2 groups them: ``convolutional``,
``pooling``, ``normalization``, ``regularization`` (noise and dropout variants),
``reshaping`` / ``spatial_reshaping``, ``multi_head_attention`` and
``convolutional_recurrent``. Keras's aliases (``MaxPool1D``, ``Convolution1D``, ...) are the
same classes; configs that name them are registered too.
"""
from .convolutional import (Conv1D, Conv1DTranspose, Conv2D, Conv3D, Convolution1D,
                            Convolution1DTranspose, Convolution2D, Convolution3D,
                            DepthwiseConv1D, SeparableConv1D, SeparableConvolution1D)
from .activation_layers import ELU, LeakyReLU, PReLU, ReLU, Softmax, ThresholdedReLU
from .convolutional_more import (Conv2DTranspose, Conv3DTranspose, Convolution2DTranspose,
                                 Convolution3DTranspose, DepthwiseConv2D, SeparableConv2D,
                                 SeparableConvolution2D)
from .group_normalization import GroupNormalization
from .identity import Identity
from .numeric_preprocessing import Normalization, Rescaling
from .convolutional_recurrent import (ConvLSTM1D, ConvLSTM1DCell, ConvLSTM2D, ConvLSTM2DCell,
                                      ConvLSTM3D, ConvLSTM3DCell, ConvLSTMCell)
from .multi_head_attention import MultiHeadAttention
from .normalization import BatchNormalization, LayerNormalization, UnitNormalization
from .pooling import (ALIASES as _POOLING_ALIASES, AveragePooling1D, AveragePooling2D,
                      AveragePooling3D, AvgPool1D, AvgPool2D, AvgPool3D, GlobalAveragePooling2D,
                      GlobalAveragePooling3D, GlobalAvgPool1D, GlobalAvgPool2D, GlobalAvgPool3D,
                      GlobalMaxPool1D, GlobalMaxPool2D, GlobalMaxPool3D, GlobalMaxPooling2D,
                      GlobalMaxPooling3D, MaxPool1D, MaxPool2D, MaxPool3D, MaxPooling1D,
                      MaxPooling2D, MaxPooling3D)
from .regularization import (ActivityRegularization, AlphaDropout, GaussianDropout,
                             GaussianNoise, SpatialDropout1D, SpatialDropout2D, SpatialDropout3D)
from .reshaping import Permute
from .spatial_reshaping import (Cropping1D, Cropping2D, Cropping3D, UpSampling1D, UpSampling2D,
                                UpSampling3D, ZeroPadding1D, ZeroPadding2D, ZeroPadding3D)

BESIDE_CLASSES = (Conv1D, Conv2D, Conv3D, SeparableConv1D, DepthwiseConv1D, Conv1DTranspose,
                  MaxPooling1D, MaxPooling2D, MaxPooling3D, AveragePooling1D, AveragePooling2D,
                  AveragePooling3D, GlobalMaxPooling2D, GlobalAveragePooling2D,
                  GlobalMaxPooling3D, GlobalAveragePooling3D, BatchNormalization,
                  LayerNormalization, UnitNormalization, SpatialDropout1D, SpatialDropout2D,
                  SpatialDropout3D, GaussianNoise, GaussianDropout, AlphaDropout,
                  ActivityRegularization, Permute, Cropping1D, Cropping2D, ZeroPadding1D,
                  ZeroPadding2D, UpSampling1D, UpSampling2D, MultiHeadAttention, ConvLSTMCell,
                  ConvLSTM1DCell, ConvLSTM2DCell, ConvLSTM3DCell, ConvLSTM1D, ConvLSTM2D,
                  ConvLSTM3D, Cropping3D, ZeroPadding3D, UpSampling3D,
                  # the held-back check's layers (tf.keras 2.12's namespace beside the RNNs)
                  ReLU, LeakyReLU, PReLU, ELU, ThresholdedReLU, Softmax, Identity,
                  Normalization, Rescaling, Conv2DTranspose, Conv3DTranspose, DepthwiseConv2D,
                  SeparableConv2D, GroupNormalization)

# Config names that are aliases of the classes above (the class is registered under both).
ALIAS_CLASSES = {**_POOLING_ALIASES, "Convolution1D": Conv1D, "Convolution2D": Conv2D,
                 "Convolution3D": Conv3D, "SeparableConvolution1D": SeparableConv1D,
                 "Convolution1DTranspose": Conv1DTranspose,
                 "Convolution2DTranspose": Conv2DTranspose,
                 "Convolution3DTranspose": Conv3DTranspose,
                 "SeparableConvolution2D": SeparableConv2D}

BESIDE_NAMES = [cls.__name__ for cls in BESIDE_CLASSES] + sorted(ALIAS_CLASSES)
__all__ = list(BESIDE_NAMES)
